import Foundation
@testable import PlanWatchModel
import PlanWatchWire
import Testing

/// A restart reads each checkpointed subject with `JSONValue.decode` from the parsed row,
/// instead of `JSONDecoder`: what it reads must be what `JSONDecoder` reads from the same
/// text, and what it cannot read exactly it must refuse, for `JSONDecoder` to read.
@Suite struct JSONValueDecodingTests {
    func parsed(_ value: some Encodable) throws -> (JSONValue, Data) {
        let bytes = try JSONWriter.encode(value)
        return (try JSONParser.parse(bytes), Data(bytes))
    }

    @Test func whatItReadsIsWhatJSONDecoderReadsFromTheSameText() throws {
        let value = CodableSample()
        let (tree, text) = try parsed(value)
        let ours = try tree.decode(CodableSample.self)
        #expect(ours == value)
        #expect(ours == (try JSONDecoder().decode(CodableSample.self, from: text)))
        #expect(ours.doubles.map(\.bitPattern) == value.doubles.map(\.bitPattern))  // -0.0 stays negative
        #expect(try JSONParser.parse(Array("[1, null]".utf8)).decode([Int?].self) == [1, nil])
        #expect(try JSONParser.parse(Array(#"{"since":3}"#.utf8)).decode([String: Int64].self) == ["since": 3])
    }

    /// Rows written by JSONEncoder (before this reader, or where JSONWriter left a value to
    /// it) write -0.0 as "-0" and 5.0 as "5": read here, or refused, never read otherwise.
    @Test func rowsJSONEncoderWroteAreReadAsJSONDecoderReadsThemOrRefused() throws {
        let value = CodableSample()
        let text = try JSONEncoder().encode(value)
        let tree = try JSONParser.parse(Array(text))
        #expect(throws: JSONValueDecodingError.self) { try tree.decode(CodableSample.self) }  // its -0.0
        var positive = value
        positive.doubles.removeAll { $0 == 0 }
        let ours = try JSONParser.parse(Array(try JSONEncoder().encode(positive))).decode(CodableSample.self)
        #expect(ours == positive && ours.doubles.map(\.bitPattern) == positive.doubles.map(\.bitPattern))
        #expect(try JSONDecoder().decode(CodableSample.self, from: text).doubles[3].sign == .minus)
    }

    /// A type that catches a refusal itself (here: a Float it reads with `try?`, falling back
    /// to 0) would read something else than JSONDecoder reads: the whole value is refused.
    struct Lenient: Codable, Equatable {
        var level: Float = 0.5
        enum Keys: String, CodingKey { case level }
        init() {}
        init(from decoder: any Decoder) throws {
            level = (try? decoder.container(keyedBy: Keys.self).decode(Float.self, forKey: .level)) ?? 0
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(level, forKey: .level)
        }
    }

    @Test func aRefusalTheTypeCaughtItselfStillRefusesTheValue() throws {
        let (tree, text) = try parsed(Lenient())
        #expect(throws: JSONValueDecodingError.self) { try tree.decode(Lenient.self) }
        #expect(try JSONDecoder().decode(Lenient.self, from: text) == Lenient())
    }

    struct Money: Codable, Equatable { var amount = Decimal(string: "12.345")! }
    struct Ratio: Codable, Equatable { var share: Float = 0.1 }

    /// Each of these `JSONDecoder` reads in its own way, or refuses with its own error: refused
    /// here, whatever the value, so that it is asked.
    @Test func whatItWouldNotReadExactlyItRefuses() throws {
        #expect(throws: JSONValueDecodingError.self) { try parsed(Money()).0.decode(Money.self) }
        #expect(throws: JSONValueDecodingError.self) { try parsed(Ratio()).0.decode(Ratio.self) }
        // Beyond Int64, JSONParser keeps a Double: an UInt64 read from it could be off by one.
        #expect(throws: JSONValueDecodingError.self) { try parsed([UInt64.max]).0.decode([UInt64].self) }
        #expect(throws: JSONValueDecodingError.self) { try JSONParser.parse(Array("[1.5]".utf8)).decode([Int].self) }
        #expect(throws: JSONValueDecodingError.self) { try JSONParser.parse(Array("[300]".utf8)).decode([UInt8].self) }
        #expect(throws: JSONValueDecodingError.self) { try JSONParser.parse(Array(#"{"name":"a"}"#.utf8)).decode(Inner.self) }
        #expect(throws: JSONValueDecodingError.self) { try JSONParser.parse(Array(#"["a"]"#.utf8)).decode([Int].self) }
        #expect(throws: JSONValueDecodingError.self) { try JSONParser.parse(Array(#""not base64!""#.utf8)).decode(Data.self) }
        // What JSONDecoder does with them: reads the first two, refuses the rest.
        #expect(try JSONDecoder().decode(Money.self, from: try parsed(Money()).1) == Money())
        #expect(try JSONDecoder().decode(Ratio.self, from: try parsed(Ratio()).1) == Ratio())
    }
}
