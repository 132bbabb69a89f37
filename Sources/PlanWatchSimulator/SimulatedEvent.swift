import PlanWatchModel

/// One event of a simulated stream, ready to send as `[topic, body]`.
public struct SimulatedEvent: Sendable {
    public var topic: String
    public var body: [UInt8]
    public var id: String
    public var occurredAt: Timestamp
}
