import PlanWatchModel

/// One row of the journal: an accepted event, a clock tick, or a rejected message.
struct JournalEntry: Sendable, Equatable {
    enum Kind: Int64, Sendable {
        case event = 0
        case tick = 1
        case rejected = 2
    }

    var position: Int64 = 0
    var kind: Kind
    var receivedAt: Timestamp
    /// `(source, id)` of an event.
    var key: EventKey?
    var type: String?
    var topic: [UInt8]
    var body: [UInt8]
    var reason: RejectionReason?
    var detail: String?

    static func event(_ event: Event, topic: [UInt8], body: [UInt8], receivedAt: Timestamp) -> JournalEntry {
        JournalEntry(
            kind: .event, receivedAt: receivedAt, key: EventKey(event), type: event.type,
            topic: topic, body: body)
    }

    static func tick(at: Timestamp) -> JournalEntry {
        JournalEntry(kind: .tick, receivedAt: at, topic: [], body: [])
    }

    /// A rejected message, as ingest kept it (cut to ``RejectedMessage/keptBodyBytes``).
    static func rejected(_ rejection: Rejection, topic: [UInt8], body: [UInt8], receivedAt: Timestamp) -> JournalEntry {
        JournalEntry(kind: .rejected, receivedAt: receivedAt, topic: topic, body: body, reason: rejection.reason, detail: rejection.detail)
    }
}
