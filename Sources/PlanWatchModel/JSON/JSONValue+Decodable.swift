import Foundation

extension JSONValue {
    /// Decodes a `T` from this parsed JSON as `JSONDecoder` decodes it from the same text (its
    /// default strategies: `Data` from base64, `Date` from its own `Double`, `URL` from its
    /// string), without `JSONDecoder`'s generic machinery: a restart reads every subject of a
    /// checkpoint back this way, where `JSONDecoder` took about half of the time.
    ///
    /// Throws, without saying much, wherever it would not read exactly what `JSONDecoder` reads
    /// — a `superDecoder`, a `Float`, a `Decimal`, an integer written with a fraction or beyond
    /// 64 bits, any type mismatch: the caller then decodes the text with `JSONDecoder`, which
    /// reads it or says precisely why not.
    package func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = ValueDecoder(value: self, path: nil, refusals: Refusals())
        let value = try decoder.read(self, as: type)
        // A refusal that the type caught itself (`try?`, a fallback in its `init(from:)`) may
        // have made it read something else than JSONDecoder would: refused all the same.
        guard !decoder.refusals.any else { throw JSONValueDecodingError() }
        return value
    }
}

/// Whether a decoding refused anything, caught or not.
private final class Refusals {
    var any = false
}

/// Why ``JSONValue/decode(_:)`` did not read a value (whose text `JSONDecoder` should read).
package struct JSONValueDecodingError: Error {}

private final class ValueDecoder: Decoder {
    let value: JSONValue
    let path: CodingPathNode?
    let refusals: Refusals

    init(value: JSONValue, path: CodingPathNode?, refusals: Refusals) { (self.value, self.path, self.refusals) = (value, path, refusals) }

    /// Refuses the whole value.
    func refuse() -> JSONValueDecodingError {
        refusals.any = true
        return JSONValueDecodingError()
    }

    var codingPath: [any CodingKey] { CodingPathNode.path(to: path) }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw refuse() }
        return KeyedDecodingContainer(KeyedReader<Key>(decoder: self, members: object.members))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw refuse() }
        return UnkeyedReader(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleReader(decoder: self) }

    func child(_ value: JSONValue, key: (any CodingKey)?) -> ValueDecoder {
        ValueDecoder(value: value, path: key.map { CodingPathNode(key: $0, parent: path) } ?? path, refusals: refusals)
    }

    /// `value` as a `T`: a scalar read here, anything else by its own `init(from:)`.
    func read<T: Decodable>(_ value: JSONValue, as type: T.Type, key: (any CodingKey)? = nil) throws -> T {
        // An alert is written by its own writer but read as any value.
        guard let scalar = CodableScalar.of(T.self), scalar != .alert else { return try T(from: child(value, key: key)) }
        // `T` is the scalar's own type (same metatype): the casts below change nothing.
        switch (scalar, value) {
        case (.string, .string(let s)): return unsafeBitCast(s, to: T.self)
        case (.bool, .bool(let b)): return unsafeBitCast(b, to: T.self)
        case (.int, .integer(let i)): return unsafeBitCast(try exactly(Int(exactly: i)), to: T.self)
        case (.int64, .integer(let i)): return unsafeBitCast(i, to: T.self)
        case (.int32, .integer(let i)): return unsafeBitCast(try exactly(Int32(exactly: i)), to: T.self)
        case (.int16, .integer(let i)): return unsafeBitCast(try exactly(Int16(exactly: i)), to: T.self)
        case (.int8, .integer(let i)): return unsafeBitCast(try exactly(Int8(exactly: i)), to: T.self)
        case (.uint, .integer(let i)): return unsafeBitCast(try exactly(UInt(exactly: i)), to: T.self)
        case (.uint64, .integer(let i)): return unsafeBitCast(try exactly(UInt64(exactly: i)), to: T.self)
        case (.uint32, .integer(let i)): return unsafeBitCast(try exactly(UInt32(exactly: i)), to: T.self)
        case (.uint16, .integer(let i)): return unsafeBitCast(try exactly(UInt16(exactly: i)), to: T.self)
        case (.uint8, .integer(let i)): return unsafeBitCast(try exactly(UInt8(exactly: i)), to: T.self)
        case (.double, .double(let d)): return unsafeBitCast(d, to: T.self)
        // JSONEncoder writes -0.0 as "-0", which JSONParser reads as the integer 0: a zero
        // from an integer's text is left to JSONDecoder, which keeps its sign.
        case (.double, .integer(let i)) where i != 0: return unsafeBitCast(Double(i), to: T.self)
        case (.data, .string(let s)): return unsafeBitCast(try exactly(Data(base64Encoded: s)), to: T.self)
        case (.url, .string(let s)): return unsafeBitCast(try exactly(URL(string: s)), to: T.self)
        case (.timestamp, .string(let s)): return unsafeBitCast(try exactly(Timestamp(rfc3339: s)), to: T.self)
        default: throw refuse()  // a mismatch, a Float, a Decimal, a number JSONParser kept as a Double
        }
    }

    private func exactly<V>(_ value: V?) throws -> V {
        guard let value else { throw refuse() }
        return value
    }
}

private struct KeyedReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: ValueDecoder
    let members: [(key: String, value: JSONValue)]
    /// For objects of many members (a dictionary), where each key looked up would be a scan.
    private let index: [String: Int]?

    init(decoder: ValueDecoder, members: [(key: String, value: JSONValue)]) {
        self.decoder = decoder
        self.members = members
        index = members.count > 16 ? Dictionary(members.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first }) : nil
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    private func member(_ key: Key) -> JSONValue? {
        if let index { return index[key.stringValue].map { members[$0].value } }
        let name = key.stringValue
        for member in members where member.key == name { return member.value }
        return nil
    }

    private func required(_ key: Key) throws -> JSONValue {
        guard let value = member(key) else { throw decoder.refuse() }
        return value
    }

    func contains(_ key: Key) -> Bool { member(key) != nil }
    func decodeNil(forKey key: Key) throws -> Bool { try required(key) == .null }

    // The standard library's overloads for String, Int, … call this one.
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.read(try required(key), as: type, key: key)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.child(try required(key), key: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.child(try required(key), key: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { throw decoder.refuse() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw decoder.refuse() }
}

private struct UnkeyedReader: UnkeyedDecodingContainer {
    let decoder: ValueDecoder
    let elements: [JSONValue]
    private(set) var currentIndex = 0

    init(decoder: ValueDecoder, elements: [JSONValue]) { (self.decoder, self.elements) = (decoder, elements) }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> (JSONValue, any CodingKey) {
        guard !isAtEnd else { throw decoder.refuse() }
        defer { currentIndex += 1 }
        return (elements[currentIndex], JSONIndexKey(intValue: currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw decoder.refuse() }
        guard elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, key) = try next()
        return try decoder.read(value, as: type, key: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, key) = try next()
        return try decoder.child(value, key: key).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, key) = try next()
        return try decoder.child(value, key: key).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { throw decoder.refuse() }
}

private struct SingleReader: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.read(decoder.value, as: type) }
}
