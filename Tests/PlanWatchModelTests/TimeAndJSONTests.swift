import Foundation
import PlanWatchModel
import PlanWatchWire
import Testing

@Suite struct TimeAndJSONTests {
    @Test func rfc3339KeepsTheInstantAndTheOffset() throws {
        let t = try #require(Timestamp(rfc3339: "2026-03-02T08:10:00+08:00"))
        #expect(t.epochMilliseconds == 1_772_410_200_000)
        #expect(t.description == "2026-03-02T08:10:00+08:00")
        let z = try #require(Timestamp(rfc3339: "2026-03-02T00:10:00.250Z"))
        #expect(z.epochMilliseconds == 1_772_410_200_250)
        #expect(z.inChinaTime.description == "2026-03-02T08:10:00.250+08:00")
    }

    @Test(arguments: ["2026-03-02T08:10:00", "2026-02-30T08:10:00+08:00", "2026-03-02T24:00:00Z", "2026-03-02", ""])
    func rfc3339WithoutOffsetOrWithImpossibleDatesIsRefused(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func localDatesCountDays() throws {
        let d = try #require(LocalDate(iso: "2024-02-28"))
        #expect(d.adding(days: 1).description == "2024-02-29")
        #expect(d.adding(days: 2).description == "2024-03-01")
        #expect(LocalDate(iso: "2023-02-29") == nil)
        #expect(LocalDate(dayNumber: 0).description == "1970-01-01")
    }

    @Test func writerEscapesAndRoundTrips() throws {
        let value: JSONValue = .object([
            "s": .string("引号\"\\\n\u{01}"), "n": .integer(-5), "d": .double(0.47), "a": .array([.null, .bool(true)]),
        ])
        let bytes = JSONWriter.bytes(value)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"s":"引号\"\\\n\u0001","n":-5,"d":0.47,"a":[null,true]}"#)
        #expect(try JSONParser.parse(bytes) == value)
    }

    /// Objects past a few members check duplicate keys through a set: every key of a large
    /// object is still kept in order, and a repeat is refused where it stands, whether it
    /// repeats an early key or a late one.
    @Test func aLargeObjectKeepsEveryKeyAndRefusesARepeatWhereItStands() throws {
        let keys = (0..<2_000).map { "k\($0)" }
        let text = "{" + keys.map { "\"\($0)\":1" }.joined(separator: ",") + "}"
        guard case .object(let object) = try JSONParser.parse(Array(text.utf8)) else { Issue.record("not an object"); return }
        #expect(object.members.map(\.key) == keys)
        for repeated in ["k3", "k1999", "k16"] {
            let bad = String(text.dropLast()) + ",\"\(repeated)\":2}"
            let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(bad.utf8)) }
            #expect(error?.description == "duplicate key \"\(repeated)\" at byte \(text.utf8.count)")
        }
        let early = "{" + keys.prefix(20).map { "\"\($0)\":1" }.joined(separator: ",") + ",\"k19\":3," + "\"k20\":1}"
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(early.utf8)) }
    }

    @Test func regionsKnowTheirCityAndProvince() throws {
        let zhangdian = try #require(RegionCode("370303"))
        #expect(zhangdian.city.code == "370300")
        #expect(zhangdian.province.code == "370000")
        #expect(zhangdian.isDistrict && !zhangdian.isCity && zhangdian.city.isCity)
        #expect(RegionCode("37030a") == nil)
    }

    /// A plugin's manifest declares its rules' durations as JSON; one past the bounds a config
    /// may state would overflow the calendar's arithmetic at the first alert, so it does not read.
    @Test func aRuleDurationDecodesOnlyWithinTheBoundsAConfigMayState() throws {
        let decode = { (json: String) in try JSONDecoder().decode(RuleDuration.self, from: Data(json.utf8)) }
        #expect(try decode(#"{"amount":5,"unit":"workingDays"}"#) == RuleDuration(5, .workingDays))
        for amount in ["9223372036854775807", "0", "-1", "10001"] {
            #expect(throws: DecodingError.self) { try decode("{\"amount\":\(amount),\"unit\":\"hours\"}") }
        }
    }
}
