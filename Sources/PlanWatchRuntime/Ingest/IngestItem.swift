import PlanWatchModel

/// One received message on its way from the ingest thread to the pipeline.
struct IngestItem: Sendable {
    enum Content: Sendable {
        case event(Event)
        case rejected(Rejection)
    }

    var content: Content
    var topic: [UInt8]
    var body: [UInt8]
    var receivedAt: Timestamp
    /// For the acknowledged path: the ROUTER envelope to reply to.
    var replyTo: [[UInt8]]?
}

/// A reply on the acknowledged path: `[status, id, detail]` behind the peer's envelope.
enum AckStatus: String, Sendable {
    case ok, duplicate, rejected, busy
}

func ackMessage(to envelope: [[UInt8]], status: AckStatus, id: String, detail: String) -> [[UInt8]] {
    envelope + [Array(status.rawValue.utf8), Array(id.utf8), Array(detail.utf8)]
}
