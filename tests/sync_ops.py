"""GraphQL documents of the PMS sync, shared by its tests."""

from __future__ import annotations

SYNC_SETTINGS_FIELDS = """
    locationId version patientPhotos resources { resource enabled intervalSeconds }
"""

UPDATE_SYNC_SETTINGS = f"""
mutation($input: UpdateSyncSettingsInput!) {{
  updateSyncSettings(input: $input) {{
    __typename
    ... on UpdateSyncSettingsSuccess {{ settings {{ {SYNC_SETTINGS_FIELDS} }} }}
    ... on ValidationError {{ message fields {{ field message }} }}
    ... on UserError {{ message }}
  }}
}}
"""

SYNC_SETTINGS = f"""
query($locationId: ID!) {{ syncSettings(locationId: $locationId) {{ {SYNC_SETTINGS_FIELDS} }} }}
"""

SYNC_SETTINGS_CHANGES = """
query($locationId: ID!) {
  syncSettingsChanges(locationId: $locationId) { version changedByKeyId before after }
}
"""

SYNC_STATUS = """
query($locationId: ID!) {
  syncStatus(locationId: $locationId) {
    resource enabled intervalSeconds health online lastSuccessAt lastAttemptAt lastError
    lagSeconds consecutiveFailures lastChangedCount
  }
}
"""

PATIENTS = """
query($locationId: ID!, $search: String, $first: Int!, $after: String) {
  patients(locationId: $locationId, search: $search, first: $first, after: $after) {
    edges { cursor node { id pmsId firstName lastName status hasPhoto
                          photo { documentId contentType dataUrl } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

APPOINTMENTS = """
query($locationId: ID!, $from: Date!, $to: Date!) {
  appointments(locationId: $locationId, from: $from, to: $to) {
    pmsId patientPmsId status flowStatus confirmation startsAt localDate arrivedAt
  }
}
"""

TODAY_SCHEDULE = """
query($locationId: ID!) {
  todaySchedule(locationId: $locationId) {
    date
    appointments { pmsId patientPmsId flowStatus confirmation startsAt arrivedAt seatedAt
                   dismissedAt durationMinutes patient { pmsId lastName } }
  }
}
"""

APPOINTMENT_EVENTS = """
subscription($locationId: ID!) {
  appointmentEvents(locationId: $locationId) {
    change pmsId patientPmsId flowStatus previousFlowStatus confirmation arrivedAt
  }
}
"""

SYNC_STATUS_EVENTS = """
subscription($locationId: ID!) {
  syncStatusEvents(locationId: $locationId) {
    resource reason enabled intervalSeconds online consecutiveFailures lastError
  }
}
"""
