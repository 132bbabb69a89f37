import Foundation
@testable import PlanWatchModel
import Testing

/// `JSONWriter.encode` writes a checkpoint's subjects instead of Foundation's `JSONEncoder`:
/// what it writes must read back, with `JSONDecoder`, exactly as `JSONEncoder`'s output does.
@Suite struct EncodableJSONTests {
    enum Stage: Codable, Equatable, Sendable {
        case open(since: Int64, note: String?)
        case closed
        case escalated(Int, [String])
    }

    struct Inner: Codable, Equatable, Sendable {
        var name: String
        var counts: [Int64]
        var stage: Stage
    }

    struct Everything: Codable, Equatable {
        var text = "quote \" backslash \\ slash / newline \n tab \t bell \u{07} 学校 🏫"
        var empty = ""
        var int = -42
        var int64Max = Int64.max
        var int64Min = Int64.min
        var uint64Max = UInt64.max
        var small: (Int8, Int16, Int32, UInt8, UInt16, UInt32) = (-8, -16, -32, 8, 16, 32)
        var yes = true
        var no = false
        var doubles: [Double] = [0.1 + 0.2, 1e-7, 1e300, -0.0, 5, 123_456_789.125, Double.leastNonzeroMagnitude]
        var float: Float = 0.1
        var missing: String? = nil
        var present: String? = "here"
        var nullInArray: [Int?] = [1, nil, 3]
        var byName: [String: Inner] = [
            "a": Inner(name: "甲", counts: [1, 2], stage: .open(since: 7, note: nil)),
            "b": Inner(name: "", counts: [], stage: .closed),
            "c": Inner(name: "c", counts: [Int64.min], stage: .escalated(3, ["x", "y"])),
        ]
        var byNumber: [Int: String] = [1: "one", -2: "minus two"]
        var nested: [[[String]]] = [[["a"], []], []]
        var stages: [Stage] = [.closed, .open(since: 1, note: "n"), .escalated(0, [])]
        var date = Date(timeIntervalSinceReferenceDate: 123_456.789)
        var data = Data([0, 1, 2, 250, 255])
        var url = URL(string: "https://example.org/a?b=c")!

        static func == (a: Everything, b: Everything) -> Bool {
            a.text == b.text && a.empty == b.empty && a.int == b.int && a.int64Max == b.int64Max && a.int64Min == b.int64Min
                && a.uint64Max == b.uint64Max && a.small == b.small && a.yes == b.yes && a.no == b.no
                && a.doubles.map(\.bitPattern) == b.doubles.map(\.bitPattern) && a.float == b.float && a.missing == b.missing
                && a.present == b.present && a.nullInArray == b.nullInArray && a.byName == b.byName && a.byNumber == b.byNumber
                && a.nested == b.nested && a.stages == b.stages && a.date == b.date && a.data == b.data && a.url == b.url
        }

        enum CodingKeys: String, CodingKey {
            case text, empty, int, int64Max, int64Min, uint64Max, i8, i16, i32, u8, u16, u32, yes, no, doubles, float, missing
            case present, nullInArray, byName, byNumber, nested, stages, date, data, url
        }

        init() {}

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            text = try c.decode(String.self, forKey: .text)
            empty = try c.decode(String.self, forKey: .empty)
            int = try c.decode(Int.self, forKey: .int)
            int64Max = try c.decode(Int64.self, forKey: .int64Max)
            int64Min = try c.decode(Int64.self, forKey: .int64Min)
            uint64Max = try c.decode(UInt64.self, forKey: .uint64Max)
            small = (
                try c.decode(Int8.self, forKey: .i8), try c.decode(Int16.self, forKey: .i16), try c.decode(Int32.self, forKey: .i32),
                try c.decode(UInt8.self, forKey: .u8), try c.decode(UInt16.self, forKey: .u16), try c.decode(UInt32.self, forKey: .u32)
            )
            yes = try c.decode(Bool.self, forKey: .yes)
            no = try c.decode(Bool.self, forKey: .no)
            doubles = try c.decode([Double].self, forKey: .doubles)
            float = try c.decode(Float.self, forKey: .float)
            missing = try c.decodeIfPresent(String.self, forKey: .missing)
            present = try c.decodeIfPresent(String.self, forKey: .present)
            nullInArray = try c.decode([Int?].self, forKey: .nullInArray)
            byName = try c.decode([String: Inner].self, forKey: .byName)
            byNumber = try c.decode([Int: String].self, forKey: .byNumber)
            nested = try c.decode([[[String]]].self, forKey: .nested)
            stages = try c.decode([Stage].self, forKey: .stages)
            date = try c.decode(Date.self, forKey: .date)
            data = try c.decode(Data.self, forKey: .data)
            url = try c.decode(URL.self, forKey: .url)
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(text, forKey: .text)
            try c.encode(empty, forKey: .empty)
            try c.encode(int, forKey: .int)
            try c.encode(int64Max, forKey: .int64Max)
            try c.encode(int64Min, forKey: .int64Min)
            try c.encode(uint64Max, forKey: .uint64Max)
            try c.encode(small.0, forKey: .i8)
            try c.encode(small.1, forKey: .i16)
            try c.encode(small.2, forKey: .i32)
            try c.encode(small.3, forKey: .u8)
            try c.encode(small.4, forKey: .u16)
            try c.encode(small.5, forKey: .u32)
            try c.encode(yes, forKey: .yes)
            try c.encode(no, forKey: .no)
            try c.encode(doubles, forKey: .doubles)
            try c.encode(float, forKey: .float)
            try c.encodeIfPresent(missing, forKey: .missing)
            try c.encodeIfPresent(present, forKey: .present)
            try c.encode(nullInArray, forKey: .nullInArray)
            try c.encode(byName, forKey: .byName)
            try c.encode(byNumber, forKey: .byNumber)
            try c.encode(nested, forKey: .nested)
            try c.encode(stages, forKey: .stages)
            try c.encode(date, forKey: .date)
            try c.encode(data, forKey: .data)
            try c.encode(url, forKey: .url)
        }
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
        #expect(try JSONDecoder().decode(Everything.self, from: Data(ours)) == value)
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
    }

    @Test func aNumberJSONCannotHoldIsRefusedAsJSONEncoderRefusesIt() throws {
        for bad in [Double.nan, .infinity, -.infinity] {
            #expect(throws: EncodingError.self) { try JSONWriter.encode(["x": bad]) }
        }
        #expect(throws: EncodingError.self) { try JSONWriter.encode([Float.nan]) }
    }
}
