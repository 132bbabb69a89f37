import Foundation
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
