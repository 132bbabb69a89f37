import PlanWatchModel
/// Decodes and validates inbound messages exactly as CONTRACT.md says, giving either an
/// ``Event`` or a ``Rejection`` with the contract's reason and a specific detail.
public struct EventDecoder: Sendable {
    /// The largest body accepted, in bytes (64 KiB by default).
    public var maxBodyBytes: Int
    /// Types beyond the contract's four, with their payload validators.
    public var extraTypes: [String: PayloadValidator]
    /// Also accept other daemons' indicator updates, as ``IndicatorFeed`` events.
    public var acceptsIndicators: Bool

    public init(maxBodyBytes: Int = 65_536, extraTypes: [String: PayloadValidator] = [:], acceptsIndicators: Bool = false) {
        self.maxBodyBytes = maxBodyBytes
        self.extraTypes = extraTypes
        self.acceptsIndicators = acceptsIndicators
    }

    /// Every type this decoder accepts.
    public var knownTypes: [String] { EventType.builtIn + extraTypes.keys.sorted() }

    /// Decodes a multipart message, which must be exactly `[topic, body]`.
    public func decode(frames: [[UInt8]]) -> Result<Event, Rejection> {
        guard frames.count == 2 else {
            return .failure(
                Rejection(.schemaViolation, "expected 2 frames [topic, body], got \(frames.count)"))
        }
        return decode(topic: frames[0], body: frames[1])
    }

    /// Decodes one message from its topic and body bytes.
    public func decode(topic: [UInt8], body: [UInt8]) -> Result<Event, Rejection> {
        do throws(Rejection) {
            return .success(try decodeOrThrow(topic: topic, body: body))
        } catch {
            return .failure(error)
        }
    }

    func decodeOrThrow(topic topicBytes: [UInt8], body: [UInt8]) throws(Rejection) -> Event {
        guard body.count <= maxBodyBytes else {
            throw Rejection(.tooLarge, "body is \(body.count) bytes; the limit is \(maxBodyBytes)")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(body)
        } catch {
            throw Rejection(.malformedJson, error.description)
        }
        guard case .object(let object) = root else {
            throw Rejection(.malformedJson, "body must be a JSON object, got \(root.typeName)")
        }
        if acceptsIndicators && IndicatorFeed.matches(topicBytes) {
            return try IndicatorFeed.decode(topic: topicBytes, object: object)
        }
        let r = FieldReader(object)
        let type = try r.string("type", length: 1...128)
        let extraValidator = extraTypes[type]
        guard EventType.builtIn.contains(type) || extraValidator != nil else {
            throw Rejection(.unknownType, "\"\(type)\" is not one of \(knownTypes.joined(separator: ", "))")
        }
        let region = try Self.region(r, topic: topicBytes, prefix: type, naming: "type")
        let id = try r.string("id", length: 1...128)
        let source = try r.string("source", length: 1...128)
        let seq = try r.optionalInteger("seq", in: 0...SafeInteger.max)
        let occurredAt = try r.timestamp("occurredAt")
        let schemaVersion = try r.integer("schemaVersion", in: 0...Int64(Int32.max))
        guard schemaVersion == 1 else {
            throw Rejection(.schemaViolation, "schemaVersion: \(schemaVersion) is not supported (this daemon reads 1)")
        }
        let p = try r.object("payload")
        let payload: Payload
        switch type {
        case EventType.projectMilestone: payload = .projectMilestone(try ProjectMilestone(p))
        case EventType.enrolmentCensus: payload = .enrolmentCensus(try EnrolmentCensus(p))
        case EventType.enrolmentChange: payload = .enrolmentChange(try EnrolmentChange(p))
        case EventType.safetyIncident: payload = .safetyIncident(try SafetyIncident(p))
        case EventType.operatorAck:
            _ = try OperatorAck(p)
            payload = .other(p.object)
        default:
            try extraValidator?(p)
            payload = .other(p.object)
        }
        return Event(
            id: id, type: type, source: source, seq: seq, occurredAt: occurredAt, region: region,
            schemaVersion: schemaVersion, payload: payload)
    }

    /// The body's `region`, which must be a division code and end the topic `<prefix>.<region>`.
    static func region(_ r: FieldReader, topic topicBytes: [UInt8], prefix: String, naming: String) throws(Rejection) -> RegionCode {
        let regionText = try r.string("region")
        guard let region = RegionCode(regionText) else {
            throw Rejection(.schemaViolation, "region: \"\(regionText)\" is not a 6-digit division code")
        }
        let expected = "\(prefix).\(region.code)"
        guard topicBytes.elementsEqual(expected.utf8) else {
            let topic = String(decoding: topicBytes.prefix(256), as: UTF8.self)
            throw Rejection(
                .topicMismatch, "topic \"\(topic)\" does not match \(naming) and region of the body (expected \"\(expected)\")")
        }
        return region
    }
}
