"""GraphQL documents shared by the tests, written as a dashboard would send them."""

CREATE_LOCATION = """
mutation($name: String!, $tz: String!) {
  createLocation(name: $name, timeZone: $tz) {
    __typename
    ... on CreateLocationSuccess { location { id name timeZone } }
    ... on UserError { message }
    ... on ValidationError { fields { field message } }
  }
}"""

CREATE_API_KEY = """
mutation($name: String!, $role: Role!, $locationIds: [ID!]) {
  createApiKey(name: $name, role: $role, locationIds: $locationIds) {
    __typename
    ... on CreateApiKeySuccess { secret apiKey { id role locationIds } }
    ... on UserError { message }
  }
}"""

REVOKE_API_KEY = """
mutation($id: ID!) {
  revokeApiKey(id: $id) {
    __typename
    ... on RevokeApiKeySuccess { apiKey { id revokedAt } }
    ... on UserError { message }
  }
}"""

SET_PMS_CONNECTION = """
mutation($input: PmsConnectionInput!) {
  setPmsConnection(input: $input) {
    __typename
    ... on SetPmsConnectionSuccess { connection { system baseUrl writeIntervalSeconds } }
    ... on UserError { message }
    ... on ValidationError { fields { field message } }
  }
}"""

CHECK_CONNECTION = """
mutation($locationId: ID!) {
  checkConnection(locationId: $locationId) {
    __typename
    ... on CheckConnectionSuccess { ok checks { name ok message hint } }
    ... on UserError { message }
  }
}"""

PAYMENT_TYPES = """
query($locationId: ID!) { pmsPaymentTypes(locationId: $locationId) { id name } }"""

SETTINGS_FIELDS = """
  locationId version timing dailyTime amountBasis
  sources { source enabled mode }
  payTypes { payType source method }
"""

GET_SETTINGS = f"""
query($locationId: ID!) {{
  paymentWritebackSettings(locationId: $locationId) {{ {SETTINGS_FIELDS} }}
}}"""

UPDATE_SETTINGS = f"""
mutation($input: PaymentWritebackSettingsInput!) {{
  updatePaymentWritebackSettings(input: $input) {{
    __typename
    ... on UpdatePaymentWritebackSettingsSuccess {{ settings {{ {SETTINGS_FIELDS} }} }}
    ... on UserError {{ message }}
    ... on ValidationError {{ fields {{ field message }} }}
  }}
}}"""

WRITEBACK_FIELDS = """
  id kind locationId sourceId status patientRef occurredOn pmsRecordId
  failureReason failureHint marker settingsVersion settingsSnapshot
  payment { source method grossAmount fee netAmount postedAmount payType checkNumber }
  communication {
    type channel direction noteType provider occurredAt text
    callDurationSeconds callOutcome taskRef
  }
  document { type category contentType size sha256 description }
  attempts { number outcome error pmsRecordId startedAt finishedAt }
"""

SUBMIT_PAYMENT = f"""
mutation($input: SubmitPaymentInput!) {{
  submitPayment(input: $input) {{
    __typename
    ... on SubmitPaymentSuccess {{ replayed writeback {{ {WRITEBACK_FIELDS} }} }}
    ... on UserError {{ message }}
    ... on ValidationError {{ fields {{ field message }} }}
  }}
}}"""

RETRY_WRITEBACK = f"""
mutation($id: ID!) {{
  retryWriteback(id: $id) {{
    __typename
    ... on RetryWritebackSuccess {{ writeback {{ {WRITEBACK_FIELDS} }} }}
    ... on UserError {{ message }}
  }}
}}"""

GET_WRITEBACK = f"""
query($id: ID!) {{ writeback(id: $id) {{ {WRITEBACK_FIELDS} }} }}"""

WRITEBACKS = f"""
query($filter: WritebackFilter, $first: Int!, $after: String) {{
  writebacks(filter: $filter, first: $first, after: $after) {{
    edges {{ cursor node {{ {WRITEBACK_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""

NOTIFICATIONS = """
query($locationId: ID, $unacknowledgedOnly: Boolean!) {
  notifications(locationId: $locationId, unacknowledgedOnly: $unacknowledgedOnly) {
    id locationId writebackId category message hint createdAt acknowledgedAt
  }
}"""

ACKNOWLEDGE_NOTIFICATION = """
mutation($id: ID!) {
  acknowledgeNotification(id: $id) {
    __typename
    ... on AcknowledgeNotificationSuccess { notification { id acknowledgedAt } }
    ... on UserError { message }
  }
}"""

WRITEBACK_EVENTS = """
subscription($locationId: ID!) {
  writebackEvents(locationId: $locationId) {
    writebackId locationId kind sourceId status reason hint pmsRecordId at
  }
}"""

MARK_WRITEBACK_POSTED = f"""
mutation($id: ID!, $ref: String!) {{
  markWritebackPosted(id: $id, pmsReference: $ref) {{
    __typename
    ... on ManualWritebackSuccess {{ writeback {{ {WRITEBACK_FIELDS} postedManuallyBy }} }}
    ... on UserError {{ message }}
  }}
}}"""

PUSH_WRITEBACK = f"""
mutation($id: ID!) {{
  pushWriteback(id: $id) {{
    __typename
    ... on ManualWritebackSuccess {{ writeback {{ {WRITEBACK_FIELDS} }} }}
    ... on UserError {{ message }}
  }}
}}"""

RUN_DAILY_WRITEBACK_NOW = """
mutation($locationId: ID!) {
  runDailyWritebackNow(locationId: $locationId) {
    __typename
    ... on RunDailyWritebackNowSuccess { run { id runKey status } }
    ... on UserError { message }
  }
}"""

DAILY_RUNS = """
query($locationId: ID!) {
  dailyRuns(locationId: $locationId) { id runKey cutoffAt status itemCount triggeredBy }
}"""

WRITEBACK_BATCH = """
query($id: ID!) { writeback(id: $id) { id status dailyRunId } }"""

TEST_PAYMENT_WRITEBACK = """
mutation($locationId: ID!, $patientRef: String) {
  testPaymentWriteback(locationId: $locationId, patientRef: $patientRef) {
    __typename
    ... on CheckConnectionSuccess { ok checks { name ok message hint } }
    ... on UserError { message }
  }
}"""

ADJUSTMENT_TYPES = """
query($locationId: ID!) { pmsAdjustmentTypes(locationId: $locationId) { id name sign } }"""

SUBMIT_REFUND = f"""
mutation($input: SubmitRefundInput!) {{
  submitRefund(input: $input) {{
    __typename
    ... on SubmitPaymentSuccess {{
      replayed writeback {{ {WRITEBACK_FIELDS} refund {{ refundedWritebackId amount }} }}
    }}
    ... on UserError {{ message }}
    ... on ValidationError {{ fields {{ field message }} }}
  }}
}}"""

WRITEBACK_PARTS = """
query($id: ID!) { writeback(id: $id) { id status postedParts failureReason failureHint } }"""

NOTICE_FIELDS = """
  id locationId writebackId writebackIds category message hint occurrences
  createdAt lastOccurredAt acknowledgedAt resolvedAt
"""

NOTICES = f"""
query($locationId: ID, $unacknowledgedOnly: Boolean!) {{
  notifications(locationId: $locationId, unacknowledgedOnly: $unacknowledgedOnly) {{
    {NOTICE_FIELDS}
  }}
}}"""

SET_NOTIFICATION_WEBHOOK = """
mutation($locationId: ID!, $url: String!) {
  setNotificationWebhook(locationId: $locationId, url: $url) {
    __typename
    ... on SetNotificationWebhookSuccess { secret webhook { locationId url enabled } }
    ... on UserError { message }
    ... on ValidationError { fields { field message } }
  }
}"""

REMOVE_NOTIFICATION_WEBHOOK = """
mutation($locationId: ID!) {
  removeNotificationWebhook(locationId: $locationId) {
    __typename
    ... on RemoveNotificationWebhookSuccess { locationId removed }
    ... on UserError { message }
  }
}"""

NOTIFICATION_WEBHOOK = """
query($locationId: ID!) { notificationWebhook(locationId: $locationId) { url enabled } }"""

WEBHOOK_DELIVERIES = """
query($locationId: ID!, $first: Int! = 50) {
  webhookDeliveries(locationId: $locationId, first: $first) {
    id notificationId event status attempts lastStatusCode lastError nextAttemptAt
    createdAt deliveredAt payload
  }
}"""

NOTIFICATION_EVENTS = f"""
subscription($locationId: ID!) {{
  notificationEvents(locationId: $locationId) {{ event at notification {{ {NOTICE_FIELDS} }} }}
}}"""

PMS_OPTIONS = """
query($locationId: ID!) {
  pmsOptions(locationId: $locationId) {
    fetchedAt
    paymentTypes { id name }
    noteTypes { id name usage }
    documentCategories { id name usage }
    adjustmentTypes { id name sign }
    providers { id name }
  }
}"""

COMMUNICATION_SETTINGS_FIELDS = """
  locationId version provider
  types { type allowed noteType }
  documents { type writeCategory readCategory }
"""

GET_COMMUNICATION_SETTINGS = f"""
query($locationId: ID!) {{
  communicationWritebackSettings(locationId: $locationId) {{ {COMMUNICATION_SETTINGS_FIELDS} }}
}}"""

UPDATE_COMMUNICATION_SETTINGS = f"""
mutation($input: CommunicationWritebackSettingsInput!) {{
  updateCommunicationWritebackSettings(input: $input) {{
    __typename
    ... on UpdateCommunicationWritebackSettingsSuccess {{
      settings {{ {COMMUNICATION_SETTINGS_FIELDS} }}
    }}
    ... on UserError {{ message }}
    ... on ValidationError {{ fields {{ field message }} }}
  }}
}}"""

SUBMIT_COMMUNICATION = f"""
mutation($input: SubmitCommunicationInput!) {{
  submitCommunication(input: $input) {{
    __typename
    ... on SubmitWritebackSuccess {{ replayed writeback {{ {WRITEBACK_FIELDS} }} }}
    ... on UserError {{ message }}
    ... on ValidationError {{ fields {{ field message }} }}
  }}
}}"""

SUBMIT_DOCUMENT = f"""
mutation($input: SubmitDocumentInput!) {{
  submitDocument(input: $input) {{
    __typename
    ... on SubmitWritebackSuccess {{ replayed writeback {{ {WRITEBACK_FIELDS} }} }}
    ... on UserError {{ message }}
    ... on ValidationError {{ fields {{ field message }} }}
  }}
}}"""

PATIENT_DOCUMENTS = """
query($locationId: ID!, $patientRef: String!, $type: DocumentType!) {
  patientDocuments(locationId: $locationId, patientRef: $patientRef, type: $type) {
    __typename
    ... on PatientDocumentsSuccess {
      documents { recordId description category createdAt fileName imageType }
    }
    ... on UserError { message }
  }
}"""
