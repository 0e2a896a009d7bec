"""The demo practice every fresh SimulatorState starts with (all names are fictional)."""

from __future__ import annotations

from typing import Final

# Definition categories (enum DefCat in Open Dental) and the names the API reports for them.
ADJ_TYPES: Final = 1
APPT_CONFIRMED: Final = 2
PAYMENT_TYPES: Final = 10
IMAGE_CATS: Final = 18
COMMLOG_TYPES: Final = 27
INSURANCE_PAYMENT_TYPES: Final = 32
CLAIM_PAYMENT_GROUPS: Final = 40
CATEGORY_NAMES: Final[dict[int, str]] = {
    ADJ_TYPES: "AdjTypes",
    APPT_CONFIRMED: "ApptConfirmed",
    PAYMENT_TYPES: "PaymentTypes",
    IMAGE_CATS: "ImageCats",
    COMMLOG_TYPES: "CommLogTypes",
    INSURANCE_PAYMENT_TYPES: "InsurancePaymentType",
    CLAIM_PAYMENT_GROUPS: "ClaimPaymentGroups",
}

# The payment type Open Dental's 19.4.1 conversion creates and points pref ApiPaymentType at.
API_PAYMENT_TYPE_NAME: Final = "From API"

# (category, ItemName, ItemValue, hidden)
DEFINITIONS: Final[list[tuple[int, str, str, bool]]] = [
    (PAYMENT_TYPES, "Check", "", False),
    (PAYMENT_TYPES, "Cash", "", False),
    (PAYMENT_TYPES, "Credit Card", "", False),
    (PAYMENT_TYPES, "Care Credit", "", False),
    (PAYMENT_TYPES, API_PAYMENT_TYPE_NAME, "", False),
    (PAYMENT_TYPES, "Old Card Terminal", "", True),
    (ADJ_TYPES, "Professional Discount", "-", False),
    (ADJ_TYPES, "Bad Debt Writeoff", "-", False),
    (ADJ_TYPES, "Processing Fee Credit", "-", False),
    (ADJ_TYPES, "Finance Charge", "+", False),
    (ADJ_TYPES, "Billing Charge", "+", False),
    (ADJ_TYPES, "Sales Tax", "+", False),
    (ADJ_TYPES, "Old Courtesy Discount", "-", True),
    (COMMLOG_TYPES, "Appointment Related", "APPT", False),
    (COMMLOG_TYPES, "Financial", "FIN", False),
    (COMMLOG_TYPES, "Recall", "RECALL", False),
    (COMMLOG_TYPES, "Misc", "MISC", False),
    (COMMLOG_TYPES, "Text", "TEXT", False),
    (IMAGE_CATS, "Documents", "", False),
    (IMAGE_CATS, "Radiographs", "XT", False),
    (IMAGE_CATS, "Patient Pictures", "P", False),
    (IMAGE_CATS, "Photos", "M", False),
    (IMAGE_CATS, "Statements", "S", False),
    (IMAGE_CATS, "Claim Attachments", "C", False),
    (APPT_CONFIRMED, "Not Called", "", False),
    (APPT_CONFIRMED, "Unconfirmed", "", False),
    (APPT_CONFIRMED, "Appointment Confirmed", "", False),
    (APPT_CONFIRMED, "Left Msg", "", False),
    (APPT_CONFIRMED, "Arrived", "", False),
    (APPT_CONFIRMED, "Ready to go back", "", False),
    (APPT_CONFIRMED, "In Treatment Room", "", False),
    (APPT_CONFIRMED, "Front Desk", "", False),
    (APPT_CONFIRMED, "Texted", "", False),
    # Appended last so the DefNums above stay what earlier tests and demos saw.
    (INSURANCE_PAYMENT_TYPES, "Check", "", False),
    (INSURANCE_PAYMENT_TYPES, "EFT", "", False),
    (INSURANCE_PAYMENT_TYPES, "Virtual Credit Card", "", False),
    (INSURANCE_PAYMENT_TYPES, "Old Lockbox", "", True),
    (CLAIM_PAYMENT_GROUPS, "Default", "", False),
]

# (Abbr, FName, LName, hidden, deleted, hygienist) -> ProvNum 1..n in this order
PROVIDERS: Final[list[tuple[str, str, str, bool, bool, bool]]] = [
    ("DOC1", "Jordan", "Rivera", False, False, False),
    ("HYG1", "Sam", "Okafor", False, False, True),
    ("DOC2", "Alex", "Morgan", True, False, False),
    ("DOC3", "Pat", "Lindqvist", True, True, False),
]

# (LName, FName, Birthdate, PriProv) -> PatNum 1..n in this order
PATIENTS: Final[list[tuple[str, str, str, int]]] = [
    ("Demo", "Avery", "1984-03-12", 1),
    ("Sample", "Blake", "1991-07-30", 1),
    ("Testcase", "Casey", "2012-11-02", 2),
    ("Example", "Drew", "1958-01-19", 1),
    ("Placeholder", "Emery", "1976-09-05", 2),
]

# One open dynamic payment plan: (PatNum, PayAmt per charge, principal). PayPlanNum 1.
PAYPLANS: Final[list[tuple[int, str, str]]] = [(2, "50.00", "600.00")]

# The carrier every simulated claim is billed to.
CARRIER_NAME: Final = "Fictional Dental Mutual"

# One sent, unpaid claim: (PatNum, [(CodeSent, FeeBilled, InsPayEst)]). ClaimNum 1,
# ClaimProcNums 1 and 2.
CLAIMS: Final[list[tuple[int, list[tuple[str, str, str]]]]] = [
    (4, [("D0120", "65.00", "52.00"), ("D1110", "110.00", "88.00")]),
]

# Tasks (TaskNum 1, 2) task notes can be written to.
TASKS: Final = ("Call back about insurance", "Verify benefits before visit")

# Today's schedule of the demo practice: (PatNum, local time, ApptConfirmed name). AptNum 1..n.
APPOINTMENTS: Final[list[tuple[int, str, str]]] = [
    (1, "08:00", "Appointment Confirmed"),
    (2, "09:00", "Unconfirmed"),
    (3, "10:30", "Not Called"),
    (4, "13:00", "Left Msg"),
]

# The simulated office's prefs AppointmentTime{Arrived,Seated,Dismissed}Trigger: setting an
# appointment's confirmation to one of these stamps the time column with now.
FLOW_TRIGGERS: Final[dict[str, str]] = {
    "Arrived": "DateTimeArrived",
    "In Treatment Room": "DateTimeSeated",
    "Front Desk": "DateTimeDismissed",
}
