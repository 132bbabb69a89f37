/// Another daemon's indicator updates as inbound events, for a daemon that rolls cities up
/// to their province (`planwatchd --ingest-indicators`).
///
/// A message `[indicator.<id>.<region>, body]` with CONTRACT.md's indicator body becomes an
/// event of type ``type`` whose payload is that body, so that it is journaled, deduplicated
/// and replayed like any event: its source is `indicator/<region>`, its id
/// `<id>/<seq>/<asOf in ms>` (a daemon that re-publishes after a crash repeats both), and it
/// occurred at `asOf`.
public enum IndicatorFeed {
    /// The event type the updates arrive as.
    public static let type = "indicator.update"

    /// True when `topic` is an indicator topic.
    public static func matches(_ topic: [UInt8]) -> Bool { topic.starts(with: "indicator.".utf8) }

    static func decode(topic topicBytes: [UInt8], object: JSONObject) throws(Rejection) -> Event {
        let r = FieldReader(object)
        let indicator = try r.string("indicator", length: 1...96)
        let region = try EventDecoder.region(r, topic: topicBytes, prefix: "indicator.\(indicator)", naming: "indicator")
        _ = try r.enumeration("scope", IndicatorScope.self)
        _ = try r.optionalInteger("numerator", in: 0...SafeInteger.max)
        _ = try r.optionalInteger("denominator", in: 0...SafeInteger.max)
        let seq = try r.integer("seq", in: 1...SafeInteger.max)
        let asOf = try r.timestamp("asOf")
        return Event(
            id: "\(indicator)/\(seq)/\(asOf.epochMilliseconds)", type: type, source: "indicator/\(region.code)", seq: nil,
            occurredAt: asOf, region: region, schemaVersion: 1, payload: .other(object))
    }
}
