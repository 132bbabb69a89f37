/// An accepted inbound event: the contract's envelope with its decoded payload.
public struct Event: Sendable, Equatable {
    /// 1–128 characters; `(source, id)` is unique.
    public var id: String
    /// The event type, e.g. `safety.incident`.
    public var type: String
    /// The producing system, e.g. `xueji`.
    public var source: String
    /// Per-source sequence number, when the source numbers its events.
    public var seq: Int64?
    /// When it happened, with the producer's offset.
    public var occurredAt: Timestamp
    /// The district (or other division) the event belongs to.
    public var region: RegionCode
    /// The envelope's schema version (1).
    public var schemaVersion: Int64
    /// The decoded payload.
    public var payload: Payload

    public init(
        id: String, type: String, source: String, seq: Int64? = nil, occurredAt: Timestamp,
        region: RegionCode, schemaVersion: Int64 = 1, payload: Payload
    ) {
        self.id = id
        self.type = type
        self.source = source
        self.seq = seq
        self.occurredAt = occurredAt
        self.region = region
        self.schemaVersion = schemaVersion
        self.payload = payload
    }
}

/// The payload of an event, decoded for the contract's four inbound types.
public enum Payload: Sendable, Equatable {
    case projectMilestone(ProjectMilestone)
    case enrolmentCensus(EnrolmentCensus)
    case enrolmentChange(EnrolmentChange)
    case safetyIncident(SafetyIncident)
    /// A type added by a handler module; it validates and reads the object itself.
    case other(JSONObject)
}

/// The event types of the wire contract, version 1.
public enum EventType {
    public static let projectMilestone = "project.milestone"
    public static let enrolmentCensus = "enrolment.census"
    public static let enrolmentChange = "enrolment.change"
    public static let safetyIncident = "safety.incident"
    /// The four inbound types of CONTRACT.md.
    public static let contract: [String] = [projectMilestone, enrolmentCensus, enrolmentChange, safetyIncident]
    /// An operator acknowledges a firing alert (``OperatorAck``); the host's alert desk takes it.
    public static let operatorAck = "operator.ack"
    /// Every type the daemon itself reads: the contract's four and ``operatorAck``.
    public static let builtIn: [String] = contract + [operatorAck]
}
