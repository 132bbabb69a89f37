import Foundation

// Values of every kind a handler's subject may hold, for the JSON coders' tests.

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

struct CodableSample: Codable, Equatable {
    var text = "quote \" backslash \\ slash / newline \n tab \t bell \u{07} nul \u{0} us \u{1F} ls \u{2028} 学校 🏫"
    var int = -42
    var int64Max = Int64.max
    var int64Min = Int64.min
    var small: [Int8] = [-128, 127]
    var unsigned: [UInt32] = [0, UInt32.max]
    var yes = true
    var doubles: [Double] = [0.1 + 0.2, 1e-7, 1e300, -0.0, 5, 123_456_789.125, Double.leastNonzeroMagnitude]
    var missing: String? = nil
    var present: String? = "here"
    var nullInArray: [Int?] = [1, nil, 3]
    var byName: [String: Inner] = [
        "a": Inner(name: "甲", counts: [1, 2], stage: .open(since: 7, note: nil)),
        "b": Inner(name: "", counts: [], stage: .closed),
        "c": Inner(name: "c", counts: [Int64.min], stage: .escalated(3, ["x", "y"])),
    ]
    /// More members than an object is scanned for: looked up through an index.
    var many = Dictionary(uniqueKeysWithValues: (0..<40).map { ("k\($0)", $0) })
    var byNumber: [Int: String] = [1: "one", -2: "minus two"]
    var nested: [[[String]]] = [[["a"], []], []]
    var stages: [Stage] = [.closed, .open(since: 1, note: "n"), .escalated(0, [])]
    var date = Date(timeIntervalSinceReferenceDate: 123_456.789)
    var data = Data([0, 1, 2, 250, 255])
    var url = URL(string: "https://example.org/a?b=c")!
    var grid = Grid()
}

/// Written and read through nested containers, keyed and unkeyed.
struct Grid: Codable, Equatable {
    var rows: [[Int64]] = [[1, 2], [], [3]]
    var corner = "nw"
    enum Keys: String, CodingKey { case rows, meta, corner }
    enum MetaKeys: String, CodingKey { case corner }
    init() {}
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        var outer = try c.nestedUnkeyedContainer(forKey: .rows)
        rows = []
        while !outer.isAtEnd {
            var inner = try outer.nestedUnkeyedContainer()
            var row: [Int64] = []
            while !inner.isAtEnd { row.append(try inner.decode(Int64.self)) }
            rows.append(row)
        }
        corner = try c.nestedContainer(keyedBy: MetaKeys.self, forKey: .meta).decode(String.self, forKey: .corner)
    }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        var outer = c.nestedUnkeyedContainer(forKey: .rows)
        for row in rows {
            var inner = outer.nestedUnkeyedContainer()
            for v in row { try inner.encode(v) }
        }
        var meta = c.nestedContainer(keyedBy: MetaKeys.self, forKey: .meta)
        try meta.encode(corner, forKey: .corner)
    }
}
