/// Why an inbound message was refused: the contract's dead-letter reasons.
public enum RejectionReason: String, Sendable, CaseIterable, Codable {
    /// Not UTF-8, not JSON, or not a JSON object.
    case malformedJson
    /// `type` names no event type this daemon handles.
    case unknownType
    /// A required field is missing or ill-typed, a value is out of its range or enum,
    /// or the message does not have the two frames `[topic, body]`.
    case schemaViolation
    /// The topic disagrees with the body's `type` or `region`.
    case topicMismatch
    /// The body is larger than the configured limit (64 KiB by default).
    case tooLarge
    /// The sender may not publish on this topic.
    case unauthorized
    /// A handler failed on this event; other handlers were not affected.
    case handlerFailed
}

/// A refused message: the reason and a specific, human-readable detail.
public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: RejectionReason
    public let detail: String

    public init(_ reason: RejectionReason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}
