/// Reads required and optional fields of a JSON object, turning every problem into a
/// ``Rejection`` with reason `schemaViolation` and the field's path.
public struct FieldReader: Sendable {
    /// The object being read.
    public let object: JSONObject
    /// Where it sits in the body, e.g. `payload`, for messages.
    public let path: String

    /// A reader over `object` at `path` (`""` for the top level).
    public init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    /// A reader over `value`, which must be an object.
    public init(_ value: JSONValue, path: String) throws(Rejection) {
        guard case .object(let object) = value else {
            throw Rejection(.schemaViolation, "\(path): expected an object, got \(value.typeName)")
        }
        self.init(object, path: path)
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func violation(_ key: String, _ message: String) -> Rejection {
        Rejection(.schemaViolation, "\(name(key)): \(message)")
    }

    /// A required value of any type.
    public func value(_ key: String) throws(Rejection) -> JSONValue {
        guard let value = object[key], value != .null else { throw violation(key, "required field is missing") }
        return value
    }

    /// A required string, optionally limited in length (in characters: Unicode code points,
    /// as JSON Schema's `maxLength` counts them).
    public func string(_ key: String, length: ClosedRange<Int>? = nil) throws(Rejection) -> String {
        let value = try value(key)
        return try checkString(key, value, length: length)
    }

    /// A required identifier (an indicator's id, say): ASCII letters, digits, `.`, `_` and `-`
    /// only, since it names things the daemon stores and subscribes to.
    public func identifier(_ key: String, length: ClosedRange<Int>) throws(Rejection) -> String {
        let s = try string(key, length: length)
        guard s.unicodeScalars.allSatisfy({ $0.isASCII && (Self.identifierPunctuation.contains($0) || $0.properties.isAlphabetic || ("0"..."9").contains($0)) })
        else {
            throw violation(key, "'\(s.debugDescription.dropFirst().dropLast())' is not an identifier: use letters, digits, '.', '_' and '-'")
        }
        return s
    }

    private static let identifierPunctuation: Set<Unicode.Scalar> = [".", "_", "-"]

    /// An optional string: nil when absent or null.
    public func optionalString(_ key: String, length: ClosedRange<Int>? = nil) throws(Rejection) -> String? {
        guard let value = object[key], value != .null else { return nil }
        return try checkString(key, value, length: length)
    }

    private func checkString(_ key: String, _ value: JSONValue, length: ClosedRange<Int>?) throws(Rejection) -> String {
        guard case .string(let s) = value else { throw violation(key, "expected a string, got \(value.typeName)") }
        if let length {
            let count = s.unicodeScalars.count
            guard length.contains(count) else {
                throw violation(key, "length \(count) is outside \(length.lowerBound)–\(length.upperBound) characters")
            }
        }
        return s
    }

    /// A required whole number within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int64> = 0...Int64(Int32.max)) throws(Rejection) -> Int64 {
        try checkInteger(key, try value(key), in: range)
    }

    /// An optional whole number within `range`.
    public func optionalInteger(_ key: String, in range: ClosedRange<Int64> = 0...Int64(Int32.max)) throws(Rejection) -> Int64? {
        guard let value = object[key], value != .null else { return nil }
        return try checkInteger(key, value, in: range)
    }

    private func checkInteger(_ key: String, _ value: JSONValue, in range: ClosedRange<Int64>) throws(Rejection) -> Int64 {
        let number: Int64
        switch value {
        case .integer(let i): number = i
        // An integral number written as 1.0 or 1e2 is a whole number, as JSON Schema's "integer" says.
        case .double(let d) where d == d.rounded() && abs(d) < 9.2e18: number = Int64(d)
        case .double(let d): throw violation(key, "expected a whole number, got \(d)")
        default: throw violation(key, "expected a whole number, got \(value.typeName)")
        }
        guard range.contains(number) else {
            throw violation(key, "\(number) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// A required number (whole or not) within `range`.
    public func number(_ key: String, in range: ClosedRange<Double>) throws(Rejection) -> Double {
        let value = try value(key)
        let number: Double
        switch value {
        case .integer(let i): number = Double(i)
        case .double(let d): number = d
        default: throw violation(key, "expected a number, got \(value.typeName)")
        }
        guard range.contains(number) else {
            throw violation(key, "\(number) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// A required string naming a case of `E`.
    public func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(Rejection) -> E
    where E.RawValue == String {
        let raw = try string(key)
        return try checkEnum(key, raw, type)
    }

    /// An optional string naming a case of `E`.
    public func optionalEnumeration<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(Rejection) -> E?
    where E.RawValue == String {
        guard let raw = try optionalString(key) else { return nil }
        return try checkEnum(key, raw, type)
    }

    private func checkEnum<E: RawRepresentable & CaseIterable>(_ key: String, _ raw: String, _ type: E.Type) throws(Rejection) -> E
    where E.RawValue == String {
        guard let value = E(rawValue: raw) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw violation(key, "\"\(raw)\" is not one of \(allowed)")
        }
        return value
    }

    /// A required `YYYY-MM-DD` date.
    public func date(_ key: String) throws(Rejection) -> LocalDate {
        let raw = try string(key)
        guard let date = LocalDate(iso: raw) else { throw violation(key, "\"\(raw)\" is not a YYYY-MM-DD date") }
        return date
    }

    /// An optional `YYYY-MM-DD` date.
    public func optionalDate(_ key: String) throws(Rejection) -> LocalDate? {
        guard let raw = try optionalString(key) else { return nil }
        guard let date = LocalDate(iso: raw) else { throw violation(key, "\"\(raw)\" is not a YYYY-MM-DD date") }
        return date
    }

    /// A required RFC 3339 timestamp with offset.
    public func timestamp(_ key: String) throws(Rejection) -> Timestamp {
        let raw = try string(key)
        guard let ts = Timestamp(rfc3339: raw) else {
            throw violation(key, "\"\(raw)\" is not an RFC 3339 timestamp with offset")
        }
        return ts
    }

    /// An optional RFC 3339 timestamp with offset.
    public func optionalTimestamp(_ key: String) throws(Rejection) -> Timestamp? {
        guard let raw = try optionalString(key) else { return nil }
        guard let ts = Timestamp(rfc3339: raw) else {
            throw violation(key, "\"\(raw)\" is not an RFC 3339 timestamp with offset")
        }
        return ts
    }

    /// A required object.
    public func object(_ key: String) throws(Rejection) -> FieldReader {
        try FieldReader(try value(key), path: name(key))
    }

    /// An optional object.
    public func optionalObject(_ key: String) throws(Rejection) -> FieldReader? {
        guard let value = object[key], value != .null else { return nil }
        return try FieldReader(value, path: name(key))
    }

    /// A required array.
    public func array(_ key: String) throws(Rejection) -> [JSONValue] {
        let value = try value(key)
        guard case .array(let elements) = value else { throw violation(key, "expected an array, got \(value.typeName)") }
        return elements
    }
}
