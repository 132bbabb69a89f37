import PlanWatchModel

extension IndicatorFeed {
    static func decode(topic topicBytes: [UInt8], object: JSONObject) throws(Rejection) -> Event {
        let r = FieldReader(object)
        let indicator = try r.identifier("indicator", length: 1...96)
        let region = try EventDecoder.region(r, topic: topicBytes, prefix: "indicator.\(indicator)", naming: "indicator")
        _ = try r.enumeration("scope", IndicatorScope.self)
        _ = try r.optionalInteger("numerator", in: 0...SafeInteger.max)
        _ = try r.optionalInteger("denominator", in: 0...SafeInteger.max)
        let seq = try r.integer("seq", in: 1...SafeInteger.max)
        let asOf = try r.timestamp("asOf")
        return Event(
            id: "\(indicator)/\(seq)/\(asOf.epochMilliseconds)", type: Self.type, source: "indicator/\(region.code)", seq: nil,
            occurredAt: asOf, region: region, schemaVersion: 1, payload: .other(object))
    }
}
