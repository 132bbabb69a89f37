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
    public func body(seq: Int64) -> JSONValue {
        .object([
            "reason": .string(reason.rawValue),
            "detail": .string(detail),
            "topic": .string(topic),
            "body": .string(body),
            "receivedAt": .string(receivedAt.description),
            "seq": .integer(seq),
        ])
    }
}
