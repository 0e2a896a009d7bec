from domain.sync_settings import ResourceRule, SyncResource, SyncSettings, validate


def settings(**intervals: int) -> SyncSettings:
    return SyncSettings({SyncResource(k): ResourceRule(True, v) for k, v in intervals.items()})


def test_sync_is_off_by_default_with_the_documented_intervals() -> None:
    s = SyncSettings()
    assert s.enabled() == []
    assert [s.rule_for(r).interval_seconds for r in SyncResource] == [15, 60, 30]


def test_the_default_intervals_fit_a_read_only_key() -> None:
    defaults = settings(appointment_status=15, appointments=60, patients=30)
    assert validate(defaults, call_interval_seconds=5.0) == []


def test_a_schedule_needing_more_requests_than_the_throttle_allows_is_refused_with_numbers() -> (
    None
):
    errors = validate(settings(appointment_status=5, patients=30), call_interval_seconds=5.0)
    assert [e.field for e in errors] == ["resources"]
    assert "one request every 5 s" in errors[0].message
    assert "requests a minute" in errors[0].message


def test_photos_count_against_the_throttle() -> None:
    s = settings(appointment_status=15, appointments=60, patients=30)
    with_photos = SyncSettings(s.resources, patient_photos=True)
    assert validate(s, 5.0) == []
    assert validate(with_photos, 5.0) != []


def test_intervals_outside_the_bounds_are_refused() -> None:
    errors = validate(settings(patients=0, appointments=100_000), call_interval_seconds=0)
    assert {e.field for e in errors} == {
        "resources.patients.intervalSeconds",
        "resources.appointments.intervalSeconds",
    }


def test_turning_sync_on_needs_a_connection() -> None:
    assert validate(settings(patients=30), call_interval_seconds=None)[0].field == "resources"


def test_changes_keep_what_was_not_given() -> None:
    s = settings(patients=30).with_changes({SyncResource.APPOINTMENTS: (True, None)}, True)
    assert s.rule_for(SyncResource.PATIENTS) == ResourceRule(True, 30)
    assert s.rule_for(SyncResource.APPOINTMENTS) == ResourceRule(True, 60)
    assert s.patient_photos is True
    assert SyncSettings.from_dict(s.to_dict()) == SyncSettings(
        {r: s.rule_for(r) for r in SyncResource}, True
    )
