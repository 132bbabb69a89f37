import PlanWatchModel

/// One received message on its way from the ingest thread to the pipeline.
struct IngestItem: Sendable {
    enum Content: Sendable {
        case event(Event)
        case rejected(Rejection)
    }

    var content: Content
    var topic: [UInt8]
    /// The body; a rejected one is cut to ``RejectedMessage/keptBodyBytes`` before it is queued.
    var body: [UInt8]
    var receivedAt: Timestamp
    /// For the acknowledged path: where the reply goes, once the item is journaled.
    var reply: Reply?

    enum Reply: Sendable {
        /// A producer on the acknowledged-ingest ROUTER: its envelope, and the id to answer with.
        case router(envelope: [[UInt8]], id: String)
        /// An operator's acknowledgement (HTTP or the snapshot ROUTER), resolved by the pipeline.
        case operatorAck(@Sendable (AckOutcome) -> Void)
    }

    /// A rejected message, cut as it is kept: its topic to ``RejectedMessage/keptTopicBytes``, its
    /// body to ``RejectedMessage/keptBodyBytes`` (the detail says so).
    static func rejected(_ rejection: Rejection, topic: [UInt8], body: [UInt8], receivedAt: Timestamp, reply: Reply?) -> IngestItem {
        var rejection = rejection
        var kept = body
        if body.count > RejectedMessage.keptBodyBytes {
            kept = Array(body.prefix(RejectedMessage.keptBodyBytes))
            rejection = Rejection(rejection.reason, rejection.detail + " (body kept: its first \(RejectedMessage.keptBodyBytes) bytes)")
        }
        return IngestItem(
            content: .rejected(rejection), topic: Array(topic.prefix(RejectedMessage.keptTopicBytes)), body: kept, receivedAt: receivedAt,
            reply: reply)
    }
}

/// How much of a rejected message is kept (journal, dead letter): enough to see what it was.
enum RejectedMessage {
    static let keptBodyBytes = 4096
    static let keptTopicBytes = 1024
}

/// What became of an operator's acknowledgement.
public enum AckOutcome: Sendable, Equatable {
    /// Journaled and applied: the alert as now published.
    case acknowledged(body: String)
    /// No alert with that fingerprint is firing.
    case notFiring
    /// The request itself is invalid (an empty name, a note too long, …), or not allowed.
    case rejected(String)
    /// The ingest queue is full, the journal failed, or the daemon is stopping: nothing was
    /// recorded; retry.
    case busy
}

/// A reply on the acknowledged path: `[status, id, detail]` behind the peer's envelope.
enum AckStatus: String, Sendable {
    case ok, duplicate, rejected, busy
}

func ackMessage(to envelope: [[UInt8]], status: AckStatus, id: String, detail: String) -> [[UInt8]] {
    envelope + [Array(status.rawValue.utf8), Array(id.utf8), Array(detail.utf8)]
}
