import Foundation
import PlanWatchWire
@testable import PlanWatchModel
import Testing

/// `JSONWriter.encode` writes a checkpoint's subjects instead of Foundation's `JSONEncoder`:
/// what it writes must read back, with `JSONDecoder`, exactly as `JSONEncoder`'s output does.
@Suite struct EncodableJSONTests {
    /// Every value the reader reads (``CodableSample``), and those it leaves to JSONDecoder.
    struct Everything: Codable, Equatable {
        var sample = CodableSample()
        var empty = ""
        var no = false
        var uint64Max = UInt64.max
        var i16: Int16 = -16
        var u16: UInt16 = 16
        var float: Float = 0.1
    }

    /// The same JSON document, whatever the order of its members.
    func sameDocument(_ a: [UInt8], _ b: Data) throws -> Bool {
        let x = try JSONSerialization.jsonObject(with: Data(a), options: [.fragmentsAllowed]) as? NSObject
        let y = try JSONSerialization.jsonObject(with: b, options: [.fragmentsAllowed]) as? NSObject
        return x != nil && x == y
    }

    @Test func whatItWritesReadsBackAsWhatJSONEncoderWrites() throws {
        let value = Everything()
        let ours = try JSONWriter.encode(value)
        let foundation = try JSONEncoder().encode(value)
        let back = try JSONDecoder().decode(Everything.self, from: Data(ours))
        #expect(back == value && back.sample.doubles.map(\.bitPattern) == value.sample.doubles.map(\.bitPattern))
        #expect(try sameDocument(ours, foundation))
        // Not the fallback: JSONEncoder escapes "/" as "\/", this writer does not.
        #expect(String(decoding: ours, as: UTF8.self).contains("slash / newline"))
    }

    @Test func membersAreWrittenCompactlyInTheOrderTheValueEncodesThem() throws {
        let inner = Inner(name: "a\"b", counts: [1, -2], stage: .open(since: 3, note: nil))
        #expect(String(decoding: try JSONWriter.encode(inner), as: UTF8.self) == #"{"name":"a\"b","counts":[1,-2],"stage":{"open":{"since":3}}}"#)
        #expect(String(decoding: try JSONWriter.encode(Stage.escalated(2, [])), as: UTF8.self) == #"{"escalated":{"_0":2,"_1":[]}}"#)
        #expect(String(decoding: try JSONWriter.encode([Stage.closed]), as: UTF8.self) == #"[{"closed":{}}]"#)
        #expect(String(decoding: try JSONWriter.encode("只是一个字符串"), as: UTF8.self) == #""只是一个字符串""#)
        #expect(String(decoding: try JSONWriter.encode([Int?.none, 1]), as: UTF8.self) == "[null,1]")
    }

    /// Encodes with a parent's container written to after a nested one: JSON streamed in
    /// order cannot hold that, so the value is left to JSONEncoder.
    struct Interleaved: Encodable {
        enum Keys: String, CodingKey { case first, second, inner }
        func encode(to encoder: any Encoder) throws {
            var outer = encoder.container(keyedBy: Keys.self)
            var inner = outer.nestedContainer(keyedBy: Keys.self, forKey: .inner)
            try outer.encode(1, forKey: .first)
            try inner.encode(2, forKey: .second)
        }
    }

    class Base: Encodable {
        var base = 1
    }
    final class Derived: Base {
        enum Keys: String, CodingKey { case own }
        override func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(2, forKey: .own)
            try super.encode(to: c.superEncoder())
        }
    }

    struct Money: Codable, Equatable { var amount = Decimal(string: "12.345")! }

    /// Writes one key twice: JSONEncoder keeps the last value, JSON text would hold both.
    struct Twice: Encodable {
        enum Keys: String, CodingKey { case a }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(1, forKey: .a)
            try c.encode(2, forKey: .a)
        }
    }

    /// Writes `members` keys, then the `again`th a second time: the names written are checked
    /// in a list while few, in a set past that.
    struct TwiceAmong: Encodable {
        struct Key: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }
        let members: Int
        let again: Int
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            for i in 0..<members { try c.encode(i, forKey: Key(stringValue: "k\(i)")) }
            try c.encode(-1, forKey: Key(stringValue: "k\(again)"))
        }
    }

    /// Goes on after a member failed to encode: its key is written already.
    struct Forgiving: Encodable {
        enum Keys: String, CodingKey { case bad, good }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try? c.encode([Double.nan], forKey: .bad)
            try c.encode(2, forKey: .good)
        }
    }

    @Test func whatItDoesNotWriteItselfComesOutAsJSONEncoderWritesIt() throws {
        // (JSONEncoder's member order is not fixed: compared as documents.)
        #expect(try sameDocument(try JSONWriter.encode(Interleaved()), try JSONEncoder().encode(Interleaved())))
        let derived = try JSONWriter.encode(Derived())
        #expect(try sameDocument(derived, try JSONEncoder().encode(Derived())))
        #expect(String(decoding: derived, as: UTF8.self).contains("super"))
        #expect(try JSONDecoder().decode(Money.self, from: Data(try JSONWriter.encode(Money()))) == Money())
        #expect(try sameDocument(try JSONWriter.encode(Twice()), try JSONEncoder().encode(Twice())))
        #expect(String(decoding: try JSONWriter.encode(Twice()), as: UTF8.self).filter { $0 == "a" }.count == 1)
        #expect(try sameDocument(try JSONWriter.encode(Forgiving()), try JSONEncoder().encode(Forgiving())))
        // Among few names, at the switch to a set (16 listed, the 17th makes the set), past it.
        let cases = [(3, 1), (16, 0), (17, 16), (40, 2), (40, 33)].map { TwiceAmong(members: $0.0, again: $0.1) }
        for value in cases {
            let written = try JSONWriter.encode(value)
            #expect(try sameDocument(written, try JSONEncoder().encode(value)), "\(value)")
            #expect(String(decoding: written, as: UTF8.self).components(separatedBy: "\"k\(value.again)\"").count == 2, "\(value)")
        }
    }

    @Test func aNumberJSONCannotHoldIsRefusedAsJSONEncoderRefusesIt() throws {
        for bad in [Double.nan, .infinity, -.infinity] {
            #expect(throws: EncodingError.self) { try JSONWriter.encode(["x": bad]) }
        }
        #expect(throws: EncodingError.self) { try JSONWriter.encode([Float.nan]) }
    }
}

/// An alert (three times in every checkpoint: its handler's book, the desk, the output store)
/// and a timestamp are written by their own writers rather than through `Codable`: what they
/// write must read back equal with `JSONDecoder` and with the reader a restart uses, which
/// must read it itself (a row it refuses falls back to `JSONDecoder`, three times slower).
@Suite struct ModelTypesWrittenByTheirOwnWritersTests {
    struct Tracked: Codable, Equatable {
        var alert: Alert
        var since: Timestamp
        var due: Timestamp?
        var earlier: [Alert]
    }

    static let bare = Alert(
        fingerprint: "safety.incident/INC-1", rule: "safety.incident", status: .firing, level: .yellow, region: RegionCode("370303")!,
        subject: [:], summary: "", planRef: nil, startsAt: Timestamp(epochMilliseconds: 0), updatedAt: Timestamp(epochMilliseconds: -1),
        causes: [])

    static var full: Alert {
        var a = Alert(
            fingerprint: "safety.incident/INC-\"2\"", rule: "safety.incident", status: .resolved, level: .red, previousLevel: .orange,
            region: RegionCode("370303")!,
            subject: ["incidentId": "INC-\"2\"", "schoolId": "370303-0042", "备注": "换行\n制表\t\u{0}反斜杠\\ 🏫"],
            summary: "370303-0042 发生食物中毒事件 — \"引号\" </script>", planRef: "Zibo 2020 §8",
            startsAt: Timestamp(epochMilliseconds: 1_773_200_000_123), updatedAt: Timestamp(epochMilliseconds: 1_773_200_360_000, offsetMinutes: 0),
            endsAt: Timestamp(epochMilliseconds: Int64(Int32.max) * 1000), causes: ["e-1", "", "e-\u{7f}"])
        a.owner = "district:370303"
        a.ackedBy = "王敏"
        a.ackedAt = Timestamp(epochMilliseconds: 1_773_200_100_000)
        a.ackNote = ""
        a.escalatedTo = "city:370300"
        return a
    }

    @Test(arguments: [bare, full])
    func anAlertAndTimestampsReadBackEqualWithEitherReader(alert: Alert) throws {
        let values = [
            Tracked(alert: alert, since: alert.startsAt, due: nil, earlier: []),
            Tracked(alert: alert, since: Timestamp(epochMilliseconds: -86_400_000, offsetMinutes: -300), due: alert.updatedAt, earlier: [Self.bare, alert]),
        ]
        for value in values {
            let ours = try JSONWriter.encode(value)
            #expect(try JSONDecoder().decode(Tracked.self, from: Data(ours)) == value)
            #expect(try JSONParser.parse(ours).decode(Tracked.self) == value, "the restart's reader refused \(String(decoding: ours, as: UTF8.self))")
        }
        let row = try JSONWriter.encode(alert)
        #expect(try JSONDecoder().decode(Alert.self, from: Data(row)) == alert)
        #expect(try JSONParser.parse(row).decode(Alert.self) == alert)
        // Its own writer's (the wire body's members in the body's order, the subject sorted),
        // with unset members left out as `Codable` leaves them.
        var body = String(decoding: alert.body(seq: 7), as: UTF8.self)
        body = body.replacingOccurrences(of: ",\"seq\":7", with: "")
        for unset in ["previousLevel", "planRef", "endsAt", "owner", "ackedBy", "ackedAt", "ackNote", "escalatedTo"] {
            body = body.replacingOccurrences(of: ",\"\(unset)\":null", with: "")
        }
        #expect(String(decoding: row, as: UTF8.self) == body)
    }
}
