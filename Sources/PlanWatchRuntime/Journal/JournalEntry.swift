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
    var source: String?
    var eventId: String?
    var type: String?
    var topic: [UInt8]
    var body: [UInt8]
    var reason: RejectionReason?
    var detail: String?

    static func event(_ event: Event, topic: [UInt8], body: [UInt8], receivedAt: Timestamp) -> JournalEntry {
        JournalEntry(
            kind: .event, receivedAt: receivedAt, source: event.source, eventId: event.id, type: event.type,
            topic: topic, body: body)
    }

    static func tick(at: Timestamp) -> JournalEntry {
        JournalEntry(kind: .tick, receivedAt: at, topic: [], body: [])
    }

    /// A rejected message; bodies over `keepBytes` are kept truncated (the detail says so).
    static func rejected(_ rejection: Rejection, topic: [UInt8], body: [UInt8], receivedAt: Timestamp, keepBytes: Int = 4096)
        -> JournalEntry
    {
        var detail = rejection.detail
        var kept = body
        if body.count > keepBytes {
            kept = Array(body.prefix(keepBytes))
            detail += " (body truncated to its first \(keepBytes) bytes)"
        }
        return JournalEntry(
            kind: .rejected, receivedAt: receivedAt, topic: Array(topic.prefix(1024)), body: kept,
            reason: rejection.reason, detail: detail)
    }
}
