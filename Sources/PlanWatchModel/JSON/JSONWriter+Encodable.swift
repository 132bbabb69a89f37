import Foundation

extension JSONWriter {
    /// Encodes `value` as compact JSON that Foundation's `JSONDecoder` reads back as it reads
    /// what `JSONEncoder` writes (its default strategies: `Data` as base64, `Date` as its own
    /// `Double`, `URL` as its string), straight into bytes: no tree of boxed values, no coding
    /// path built unless one is asked for. A checkpoint encodes every changed subject's value
    /// this way, on the checkpoint writer, where `JSONEncoder` took about half of its time.
    ///
    /// What it does not write itself — a `superEncoder`, a container written to after its
    /// parent went on, a number JSON cannot hold, a `Decimal` — it leaves to `JSONEncoder`,
    /// which then encodes the value whole, or throws the error it throws for it. So `value`'s
    /// `encode(to:)` may run twice: it must not change anything (a handler's subject does not).
    package static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let buffer = StreamingJSONEncoder.Buffer()
        do {
            try StreamingJSONEncoder(buffer: buffer, path: nil).encodeValue(value)
            if !buffer.refused { return buffer.bytes }
        } catch where buffer.refused {
            // left to JSONEncoder, below
        }
        return Array(try JSONEncoder().encode(value))
    }
}

/// The encoder behind ``JSONWriter/encode(_:)``. Every encoder of a value writes into one
/// buffer: a value's container is opened when it asks for it and closed when its
/// `encode(to:)` returns; a nested container, when its parent writes its next member or ends.
private final class StreamingJSONEncoder: Encoder {
    final class Buffer {
        var bytes: [UInt8] = []
        /// Set when the value does something this encoder leaves to `JSONEncoder`.
        var refused = false
        init() { bytes.reserveCapacity(256) }
    }

    /// Thrown where this encoder cannot go on (``Buffer/refused`` is set then).
    struct Unsupported: Error {}

    enum Kind { case none, keyed, unkeyed, single }

    let buffer: Buffer
    let path: CodingPathNode?
    private var opened = Kind.none
    /// Members or elements written so far (for the commas), or 1 once a single value is.
    private(set) var count = 0
    /// A container opened with `nestedContainer`, open until this one writes on or ends.
    private var openChild: StreamingJSONEncoder?
    private var closed = false
    /// The keys written, when keyed.
    private var names = MemberNames()

    init(buffer: Buffer, path: CodingPathNode?) { (self.buffer, self.path) = (buffer, path) }

    var codingPath: [any CodingKey] { CodingPathNode.path(to: path) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        open(.keyed)
        return KeyedEncodingContainer(KeyedContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        open(.unkeyed)
        return UnkeyedContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        open(.single)
        return SingleContainer(encoder: self)
    }

    /// Leaves the whole value to `JSONEncoder`.
    func refuse() -> Unsupported {
        buffer.refused = true
        return Unsupported()
    }

    /// Opens this value's container; asking for the same kind again gives the same container.
    private func open(_ kind: Kind) {
        if opened == kind && kind != .single && !closed { return }
        guard opened == .none, !closed else {
            _ = refuse()
            return
        }
        opened = kind
        switch kind {
        case .keyed: buffer.bytes.append(UInt8(ascii: "{"))
        case .unkeyed: buffer.bytes.append(UInt8(ascii: "["))
        case .single, .none: break
        }
    }

    /// Ends this value: closes a nested container still open, then its own.
    private func finish() throws {
        try closeChild()
        switch opened {
        case .keyed: buffer.bytes.append(UInt8(ascii: "}"))
        case .unkeyed: buffer.bytes.append(UInt8(ascii: "]"))
        case .single: if count == 0 { throw refuse() }  // asked for a single value, wrote none
        case .none: buffer.bytes.append(contentsOf: "{}".utf8)  // what JSONEncoder writes
        }
        closed = true
    }

    private func closeChild() throws {
        guard let child = openChild else { return }
        openChild = nil
        try child.finish()
    }

    /// Before a member, an element or the single value: the container is still this value's
    /// to write; a comma after the first.
    func next(_ kind: Kind) throws {
        guard !closed, opened == kind else { throw refuse() }
        if kind == .single {
            guard count == 0 else { throw refuse() }
        } else {
            try closeChild()
            if count > 0 { buffer.bytes.append(UInt8(ascii: ",")) }
        }
        count += 1
    }

    func member(_ key: some CodingKey) throws {
        try next(.keyed)
        let name = key.stringValue
        // A key written twice (the same container asked for twice, a subclass and its super
        // sharing it, a nested container asked for again): JSONEncoder keeps one value.
        guard names.add(name) else { throw refuse() }
        JSONWriter.writeString(name, into: &buffer.bytes)
        buffer.bytes.append(UInt8(ascii: ":"))
    }

    /// The key of the element just begun.
    var elementKey: any CodingKey { JSONIndexKey(intValue: count - 1) }

    /// Writes `value` as this encoder's whole value.
    func encodeValue<T: Encodable>(_ value: T) throws {
        if try writeScalar(value) { return }
        try value.encode(to: self)
        try finish()
    }

    /// Writes `value` as the member, element or single value just begun, at `key`.
    func encodeChild<T: Encodable>(_ value: T, key: (any CodingKey)?) throws {
        do {
            if try writeScalar(value) { return }
            let child = StreamingJSONEncoder(buffer: buffer, path: key.map { CodingPathNode(key: $0, parent: path) } ?? path)
            try value.encode(to: child)
            try child.finish()
        } catch {
            // Its key (and comma) are written: a caller that goes on after this error would
            // leave JSON that JSONEncoder would not have written.
            buffer.refused = true
            throw error
        }
    }

    /// Opens a nested container as the member or element just begun; on a misuse, one whose
    /// writes go nowhere (the value is refused).
    func nested(key: any CodingKey, kind: Kind, begin: () throws -> Void) -> StreamingJSONEncoder {
        do {
            try begin()
        } catch {
            return StreamingJSONEncoder(buffer: Buffer(), path: nil)
        }
        let child = StreamingJSONEncoder(buffer: buffer, path: CodingPathNode(key: key, parent: path))
        child.open(kind)
        openChild = child
        return child
    }

    /// A `superEncoder`: refused, and one whose writes go nowhere.
    func superEncoder() -> any Encoder {
        _ = refuse()
        return StreamingJSONEncoder(buffer: Buffer(), path: path)
    }

    /// The types JSON writes as they are, and those `JSONEncoder` writes its own way. Every
    /// type whose `encode(to:)` encodes itself in a single value container is here: the
    /// container's generic `encode` comes back to this.
    private func writeScalar<T: Encodable>(_ value: T) throws -> Bool {
        guard let scalar = CodableScalar.of(T.self) else { return false }
        switch scalar {
        case .string: write(unsafeBitCast(value, to: String.self))
        case .int: write(unsafeBitCast(value, to: Int.self))
        case .bool: write(unsafeBitCast(value, to: Bool.self))
        case .double: try write(unsafeBitCast(value, to: Double.self))
        case .int64: write(unsafeBitCast(value, to: Int64.self))
        case .int32: buffer.bytes.append(contentsOf: String(unsafeBitCast(value, to: Int32.self)).utf8)
        case .int16: buffer.bytes.append(contentsOf: String(unsafeBitCast(value, to: Int16.self)).utf8)
        case .int8: buffer.bytes.append(contentsOf: String(unsafeBitCast(value, to: Int8.self)).utf8)
        case .uint: buffer.bytes.append(contentsOf: String(unsafeBitCast(value, to: UInt.self)).utf8)
        case .uint64: buffer.bytes.append(contentsOf: String(unsafeBitCast(value, to: UInt64.self)).utf8)
        case .uint32: buffer.bytes.append(contentsOf: String(unsafeBitCast(value, to: UInt32.self)).utf8)
        case .uint16: buffer.bytes.append(contentsOf: String(unsafeBitCast(value, to: UInt16.self)).utf8)
        case .uint8: buffer.bytes.append(contentsOf: String(unsafeBitCast(value, to: UInt8.self)).utf8)
        case .float:
            let f = unsafeBitCast(value, to: Float.self)
            guard f.isFinite else { throw refuse() }  // JSONEncoder throws its own error for it
            buffer.bytes.append(contentsOf: f.description.utf8)
        case .data: write(unsafeBitCast(value, to: Data.self).base64EncodedString())
        case .url: write(unsafeBitCast(value, to: URL.self).absoluteString)
        case .decimal: throw refuse()
        case .timestamp:
            buffer.bytes.append(UInt8(ascii: "\""))
            unsafeBitCast(value, to: Timestamp.self).write(into: &buffer.bytes)
            buffer.bytes.append(UInt8(ascii: "\""))
        case .alert: unsafeBitCast(value, to: Alert.self).writeRow(into: &buffer.bytes)
        }
        return true
    }

    func write(_ s: String) { JSONWriter.writeString(s, into: &buffer.bytes) }
    func write(_ b: Bool) { buffer.bytes.append(contentsOf: (b ? "true" : "false").utf8) }
    func write(_ i: Int) { buffer.bytes.append(contentsOf: String(i).utf8) }
    func write(_ i: Int64) { buffer.bytes.append(contentsOf: String(i).utf8) }
    func write(_ d: Double) throws {
        guard d.isFinite else { throw refuse() }  // JSONEncoder throws its own error for it
        buffer.bytes.append(contentsOf: d.description.utf8)
    }
    func writeNil() { buffer.bytes.append(contentsOf: "null".utf8) }
}

/// The member names a keyed container has written, and what finds one written twice: one
/// stored property of the encoder, one access (and exclusivity check) per member where the
/// list and ``RepeatedNames`` apart took four — the list read in the check's closures while
/// the check was being modified. Microbenchmark `alert as a checkpoint row`: 5.9 → 5.7 µs.
private struct MemberNames {
    private var list: [String] = []
    private var repeated = RepeatedNames()

    /// Adds `name`; false when it was written already.
    mutating func add(_ name: String) -> Bool {
        let isRepeated: Bool
        do {
            // A copy that ends here, before the append (which would copy the list otherwise).
            let written = list
            isRepeated = repeated.check(name, count: written.count, scan: written.contains, all: { written })
        }
        guard !isRepeated else { return false }
        list.append(name)
        return true
    }
}

// The containers. Synthesised `encode(to:)` calls a keyed container's overloads for String,
// Int, Bool, Double and Int64 directly; the generic `encode` covers the rest (the standard
// library's default overloads call it), its scalars told apart in `writeScalar`.

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: StreamingJSONEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil(forKey key: Key) throws {
        try encoder.member(key)
        encoder.writeNil()
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        try encoder.member(key)
        encoder.write(value)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws {
        try encoder.member(key)
        encoder.write(value)
    }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
        try encoder.member(key)
        encoder.write(value)
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try encoder.member(key)
        encoder.write(value)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        try encoder.member(key)
        try encoder.write(value)
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encoder.member(key)
        try encoder.encodeChild(value, key: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let encoder = self.encoder
        let child = encoder.nested(key: key, kind: .keyed) { try encoder.member(key) }
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(encoder: child))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let encoder = self.encoder
        return UnkeyedContainer(encoder: encoder.nested(key: key, kind: .unkeyed) { try encoder.member(key) })
    }

    mutating func superEncoder() -> any Encoder { encoder.superEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { encoder.superEncoder() }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: StreamingJSONEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.count }

    mutating func encodeNil() throws {
        try encoder.next(.unkeyed)
        encoder.writeNil()
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try encoder.next(.unkeyed)
        try encoder.encodeChild(value, key: encoder.elementKey)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let encoder = self.encoder
        let child = encoder.nested(key: JSONIndexKey(intValue: encoder.count), kind: .keyed) { try encoder.next(.unkeyed) }
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(encoder: child))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let encoder = self.encoder
        return UnkeyedContainer(encoder: encoder.nested(key: JSONIndexKey(intValue: encoder.count), kind: .unkeyed) { try encoder.next(.unkeyed) })
    }

    mutating func superEncoder() -> any Encoder { encoder.superEncoder() }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let encoder: StreamingJSONEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws {
        try encoder.next(.single)
        encoder.writeNil()
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try encoder.next(.single)
        try encoder.encodeChild(value, key: nil)
    }
}

/// An array element's coding key, as Foundation's coders name it.
struct JSONIndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

/// The types a JSON coder writes and reads itself rather than through their own `Codable`:
/// JSON's own (strings, numbers, booleans) and those `JSONEncoder` and `JSONDecoder` treat
/// their own way (`Data`, `URL`, `Decimal`). Told apart by their metatypes (a pointer each):
/// a dynamic cast per type tried cost more than the rest of the coding.
enum CodableScalar {
    case string, int, bool, double, int64, int32, int16, int8, uint, uint64, uint32, uint16, uint8, float, data, url, decimal
    /// This module's own: a timestamp's text written without a string of its own, and an
    /// alert (three times in a checkpoint: in its handler's book, the desk and the output
    /// store) by its writer — what `Decodable` reads back as it reads their `Codable` form.
    case timestamp, alert

    static func of(_ type: Any.Type) -> CodableScalar? { table[ObjectIdentifier(type)] }

    private static let table: [ObjectIdentifier: CodableScalar] = [
        ObjectIdentifier(String.self): .string, ObjectIdentifier(Int.self): .int, ObjectIdentifier(Bool.self): .bool,
        ObjectIdentifier(Double.self): .double, ObjectIdentifier(Int64.self): .int64, ObjectIdentifier(Int32.self): .int32,
        ObjectIdentifier(Int16.self): .int16, ObjectIdentifier(Int8.self): .int8, ObjectIdentifier(UInt.self): .uint,
        ObjectIdentifier(UInt64.self): .uint64, ObjectIdentifier(UInt32.self): .uint32, ObjectIdentifier(UInt16.self): .uint16,
        ObjectIdentifier(UInt8.self): .uint8, ObjectIdentifier(Float.self): .float, ObjectIdentifier(Data.self): .data,
        ObjectIdentifier(URL.self): .url, ObjectIdentifier(Decimal.self): .decimal,
        ObjectIdentifier(Timestamp.self): .timestamp, ObjectIdentifier(Alert.self): .alert,
    ]
}

/// A coding path as a list from the leaf, turned into an array only when one is asked for.
final class CodingPathNode {
    let key: any CodingKey
    let parent: CodingPathNode?
    init(key: any CodingKey, parent: CodingPathNode?) { (self.key, self.parent) = (key, parent) }

    /// The path from the root to `node`.
    static func path(to node: CodingPathNode?) -> [any CodingKey] {
        var keys: [any CodingKey] = []
        var node = node
        while let n = node {
            keys.append(n.key)
            node = n.parent
        }
        return keys.reversed()
    }
}
