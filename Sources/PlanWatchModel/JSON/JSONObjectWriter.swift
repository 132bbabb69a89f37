extension JSONWriter {
    /// One JSON object written straight into bytes, a member at a time, in the order written:
    /// the bytes ``JSONWriter/bytes(_:)`` gives for a ``JSONValue`` of the same members, without
    /// making the value first. Every alert, indicator update and dead letter published, and
    /// every row of the alerts' audit trail, is encoded so: made as a value, each body was some
    /// twenty boxed members and their array before its bytes.
    ///
    /// Member names are the writer's own literals. String values and names are escaped as
    /// ``JSONWriter/bytes(_:)`` escapes them; numbers are written as it writes them, timestamps
    /// as their RFC 3339 text (which never needs an escape).
    public struct Object {
        private var out: [UInt8] = []
        private var first = true
        /// False: an unset member is left out rather than written null.
        private var nulls = true

        /// An object about `capacity` bytes long (it grows past that as needed).
        public init(reservingCapacity capacity: Int = 512) {
            out.reserveCapacity(capacity)
            out.append(UInt8(ascii: "{"))
        }

        /// An object that, without `writingNulls`, leaves unset members out, as a `Codable`
        /// conformance writes them (`encodeIfPresent`).
        init(writingNulls: Bool) {
            self.init()
            nulls = writingNulls
        }

        /// An object written on at the end of `bytes` (a member's value).
        private init(continuing bytes: [UInt8]) {
            out = bytes
            out.append(UInt8(ascii: "{"))
        }

        /// The object, closed.
        public consuming func bytes() -> [UInt8] {
            out.append(UInt8(ascii: "}"))
            return out
        }

        public mutating func member(_ name: StaticString, _ value: String) {
            key(name)
            JSONWriter.writeString(value, into: &out)
        }

        /// The string, or null.
        public mutating func member(_ name: StaticString, _ value: String?) {
            guard let value else { return null(name) }
            member(name, value)
        }

        public mutating func member(_ name: StaticString, _ value: Int64) {
            key(name)
            out.append(contentsOf: String(value).utf8)
        }

        /// The integer, or null.
        public mutating func member(_ name: StaticString, _ value: Int64?) {
            guard let value else { return null(name) }
            member(name, value)
        }

        /// The instant as RFC 3339 text (``Timestamp/description``).
        public mutating func member(_ name: StaticString, _ value: Timestamp) {
            key(name)
            out.append(UInt8(ascii: "\""))
            value.write(into: &out)
            out.append(UInt8(ascii: "\""))
        }

        /// The instant as RFC 3339 text, or null.
        public mutating func member(_ name: StaticString, _ value: Timestamp?) {
            guard let value else { return null(name) }
            member(name, value)
        }

        /// The number as ``JSONValue/double(_:)`` writes it, or null.
        public mutating func member(_ name: StaticString, _ value: Double?) {
            guard let value else { return null(name) }
            key(name)
            JSONWriter.writeNumber(value, into: &out)
        }

        public mutating func member(_ name: StaticString, _ value: Bool) {
            key(name)
            out.append(contentsOf: (value ? "true" : "false").utf8)
        }

        /// An array of strings.
        public mutating func member(_ name: StaticString, _ values: [String]) {
            key(name)
            writeStrings(values)
        }

        /// An object of strings, its members in the order of their names (the same bytes for
        /// the same dictionary, whatever its hashing).
        public mutating func member(_ name: StaticString, sorted object: [String: String]) {
            key(name)
            writeSorted(object) { $0.writeString($1) }
        }

        /// An object of arrays of strings, its members in the order of their names; or null.
        public mutating func member(_ name: StaticString, sorted object: [String: [String]]?) {
            guard let object else { return null(name) }
            key(name)
            writeSorted(object) { $0.writeStrings($1) }
        }

        /// An object, or null: `write` writes its members.
        public mutating func member<Value>(_ name: StaticString, object value: Value?, _ write: (inout Object, Value) -> Void) {
            guard let value else { return null(name) }
            key(name)
            var inner = Object(continuing: out)
            out = []  // the bytes are the inner object's while it writes (no copy)
            write(&inner, value)
            out = inner.bytes()
        }

        private mutating func writeString(_ s: String) { JSONWriter.writeString(s, into: &out) }

        private mutating func writeStrings(_ values: [String]) {
            out.append(UInt8(ascii: "["))
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(value, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }

        private mutating func writeSorted<Value>(_ object: [String: Value], value write: (inout Object, Value) -> Void) {
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(&self, member.value)
            }
            out.append(UInt8(ascii: "}"))
        }

        private mutating func null(_ name: StaticString) {
            guard nulls else { return }
            key(name)
            out.append(contentsOf: "null".utf8)
        }

        private mutating func key(_ name: StaticString) {
            if first { first = false } else { out.append(UInt8(ascii: ",")) }
            name.withUTF8Buffer { JSONWriter.writeString(utf8: $0, into: &out) }
            out.append(UInt8(ascii: ":"))
        }
    }
}
