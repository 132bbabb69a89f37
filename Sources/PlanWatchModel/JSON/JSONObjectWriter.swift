extension JSONWriter {
    /// One JSON object written straight into bytes, a member at a time, in the order written:
    /// the bytes ``JSONWriter/bytes(_:)`` gives for a ``JSONValue`` of the same members, without
    /// making the value first. Every alert and indicator update published is encoded so: made as
    /// a value, each body was some twenty boxed members and their array before its bytes.
    ///
    /// Member names are the writer's own literals; values of any kind are escaped as strings.
    public struct Object {
        private var out: [UInt8] = []
        private var first = true

        /// An object about `capacity` bytes long (it grows past that as needed).
        public init(reservingCapacity capacity: Int = 512) {
            out.reserveCapacity(capacity)
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
            key(name)
            guard let value else { return out.append(contentsOf: "null".utf8) }
            JSONWriter.writeNumber(value, into: &out)
        }

        public mutating func member(_ name: StaticString, _ value: Bool) {
            key(name)
            out.append(contentsOf: (value ? "true" : "false").utf8)
        }

        /// An array of strings.
        public mutating func member(_ name: StaticString, _ values: [String]) {
            key(name)
            out.append(UInt8(ascii: "["))
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(value, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }

        /// An object of strings, its members in the order of their names (the same bytes for
        /// the same dictionary, whatever its hashing).
        public mutating func member(_ name: StaticString, sorted object: [String: String]) {
            key(name)
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                JSONWriter.writeString(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }

        /// Any value, as ``JSONWriter/bytes(_:)`` writes it.
        public mutating func member(_ name: StaticString, _ value: JSONValue) {
            key(name)
            JSONWriter.write(value, into: &out)
        }

        private mutating func null(_ name: StaticString) {
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
