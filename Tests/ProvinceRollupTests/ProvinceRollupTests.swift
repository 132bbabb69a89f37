import HandlerKit
import HandlerKitTesting
import ProvinceRollup
import Testing

/// A province daemon sums the cities' numerators and denominators, as published by the
/// shards that own them (Shandong 370000: Jinan 370100, Qingdao 370200, Zibo 370300).
@Suite struct ProvinceRollupTests {
    func update(_ indicator: String, _ region: String, scope: String = "city", _ numerator: Int64, _ denominator: Int64?, seq: Int64, at: String)
        -> (topic: String, body: JSONValue)
    {
        let value: JSONValue = denominator.map { $0 > 0 ? .double(Double(numerator) / Double($0)) : .null } ?? .double(Double(numerator))
        return (
            "indicator.\(indicator).\(region)",
            .object([
                "indicator": .string(indicator), "scope": .string(scope), "region": .string(region), "value": value,
                "numerator": .integer(numerator), "denominator": denominator.map { .integer($0) } ?? .null, "target": .null,
                "status": .null, "asOf": .string(at), "seq": .integer(seq),
            ])
        )
    }

    @Test func theProvinceIsTheSumOfItsCitiesNumeratorsAndDenominators() throws {
        var s = Scenario(ProvinceRollupHandler(), now: "2026-03-02T08:00:00+08:00")
        for u in [
            update("preschool.public_share", "370300", 4700, 10000, seq: 10, at: "2026-03-02T08:10:00+08:00"),
            update("preschool.public_share", "370100", 6000, 10000, seq: 3, at: "2026-03-02T08:11:00+08:00"),
        ] { try s.sendMessage(topic: u.topic, body: u.body) }
        let province = try #require(s.indicator("preschool.public_share", "370000"))
        #expect(province.scope == .province)
        #expect(province.numerator == 10700 && province.denominator == 20000)
        #expect(province.value == 0.535)
    }

    @Test func aNewerCityValueReplacesItsOldOneAndAnOlderOneChangesNothing() throws {
        var s = Scenario(ProvinceRollupHandler(), now: "2026-03-02T08:00:00+08:00")
        let first = update("preschool.public_share", "370300", 4700, 10000, seq: 10, at: "2026-03-02T08:10:00+08:00")
        let other = update("preschool.public_share", "370200", 900, 1000, seq: 2, at: "2026-03-02T08:10:00+08:00")
        let newer = update("preschool.public_share", "370300", 5200, 10400, seq: 11, at: "2026-03-02T09:00:00+08:00")
        let stale = update("preschool.public_share", "370300", 1, 1, seq: 9, at: "2026-03-02T08:00:00+08:00")
        for u in [first, other, newer] { try s.sendMessage(topic: u.topic, body: u.body) }
        let province = try #require(s.indicator("preschool.public_share", "370000"))
        // 5200 + 900 over 10400 + 1000: a sum of counts, not the mean of 0.5 and 0.9.
        #expect(province.numerator == 6100 && province.denominator == 11400)
        let before = s.outputs.count
        #expect(try s.sendMessage(topic: stale.topic, body: stale.body).isEmpty)
        #expect(s.outputs.count == before)
    }

    @Test func countsRollUpAndDistrictUpdatesAreLeftToTheirCities() throws {
        var s = Scenario(ProvinceRollupHandler(), now: "2026-03-02T08:00:00+08:00")
        let district = update("compulsory.oversized_classes", "370303", scope: "district", 4, nil, seq: 1, at: "2026-03-02T08:10:00+08:00")
        #expect(try s.sendMessage(topic: district.topic, body: district.body).isEmpty)
        for u in [
            update("compulsory.oversized_classes", "370300", 7, nil, seq: 2, at: "2026-03-02T08:10:00+08:00"),
            update("compulsory.oversized_classes", "370100", 5, nil, seq: 2, at: "2026-03-02T08:10:00+08:00"),
        ] { try s.sendMessage(topic: u.topic, body: u.body) }
        let province = try #require(s.indicator("compulsory.oversized_classes", "370000"))
        #expect(province.value == 12 && province.denominator == nil)
    }

    @Test func anIndicatorWhoseTopicDisagreesWithItsBodyIsRejected() throws {
        var s = Scenario(ProvinceRollupHandler(), now: "2026-03-02T08:00:00+08:00")
        let u = update("preschool.public_share", "370300", 1, 2, seq: 1, at: "2026-03-02T08:10:00+08:00")
        #expect(throws: Rejection.self) { try s.sendMessage(topic: "indicator.preschool.public_share.370100", body: u.body) }
    }

    /// An indicator's id names what the province daemon stores (its shares' rows): a NUL or
    /// anything but letters, digits, '.', '_' and '-' is refused, saying so.
    @Test func anIndicatorIdOfOtherCharactersIsRejected() throws {
        var s = Scenario(ProvinceRollupHandler(), now: "2026-03-02T08:00:00+08:00")
        for id in ["preschool\u{0}share", "preschool share", "学前.公办占比"] {
            let u = update(id, "370300", 1, 2, seq: 1, at: "2026-03-02T08:10:00+08:00")
            let error = #expect(throws: Rejection.self) { try s.sendMessage(topic: u.topic, body: u.body) }
            #expect(error?.description.contains("is not an identifier") == true, "\(String(describing: error))")
        }
        let ok = update("preschool.public_share-2", "370300", 1, 2, seq: 1, at: "2026-03-02T08:10:00+08:00")
        _ = try s.sendMessage(topic: ok.topic, body: ok.body)
    }
}
