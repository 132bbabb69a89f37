/// A refused message as published on `deadletter.<reason>`, with the original topic and body.
public struct DeadLetter: Sendable, Equatable, Codable {
    public var reason: RejectionReason
    public var detail: String
    /// The original topic, as text (invalid UTF-8 replaced).
    public var topic: String
    /// The original body, as text (invalid UTF-8 replaced).
    public var body: String
    public var receivedAt: Timestamp

    public init(reason: RejectionReason, detail: String, topic: String, body: String, receivedAt: Timestamp) {
        self.reason = reason
        self.detail = detail
        self.topic = topic
        self.body = body
        self.receivedAt = receivedAt
    }

    /// `deadletter.<reason>`.
    public var outboundTopic: String { "deadletter.\(reason.rawValue)" }

    /// The contract's body, with the output sequence number.
    public func body(seq: Int64) -> [UInt8] {
        var o = JSONWriter.Object(reservingCapacity: body.utf8.count + detail.utf8.count + 128)
        o.member("reason", reason.rawValue)
        o.member("detail", detail)
        o.member("topic", topic)
        o.member("body", body)
        o.member("receivedAt", receivedAt)
        o.member("seq", seq)
        return o.bytes()
    }
}
