/// A school term (学期), as the bureau's systems name it: `2020-spring` (春季学期, February to
/// July) or `2020-autumn` (秋季学期, August to the next January, which belongs to the autumn
/// term of the year before).
public struct SchoolTerm: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public enum Half: String, Sendable, CaseIterable, Codable { case spring, autumn }

    /// The school year's calendar year in which the term starts.
    public var year: Int
    public var half: Half

    public init(year: Int, half: Half) {
        self.year = year
        self.half = half
    }

    /// The term a date falls in.
    public init(containing date: LocalDate) {
        switch date.month {
        case 1: self.init(year: date.year - 1, half: .autumn)
        case 2...7: self.init(year: date.year, half: .spring)
        default: self.init(year: date.year, half: .autumn)
        }
    }

    /// Parses `YYYY-spring` or `YYYY-autumn` (four digits); nil otherwise.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 4, parts[0].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let year = Int(parts[0]), let half = Half(rawValue: String(parts[1]))
        else { return nil }
        self.init(year: year, half: half)
    }

    /// Its first day: 1 February or 1 August.
    /// (Years are kept within 0001–9999, as every date is: a term a peer names cannot trap.)
    public var start: LocalDate { LocalDate(year: min(max(year, 1), 9999), month: half == .spring ? 2 : 8, day: 1)! }

    /// The first day of the next term.
    public var end: LocalDate { next.start }

    /// The term after it.
    public var next: SchoolTerm { half == .spring ? SchoolTerm(year: year, half: .autumn) : SchoolTerm(year: year + 1, half: .spring) }

    /// `2020-spring`.
    public var description: String { "\(String(year + 10_000).dropFirst())-\(half.rawValue)" }

    /// `2020年春季学期`.
    public var chinese: String { "\(year)年\(half == .spring ? "春季" : "秋季")学期" }

    public static func < (a: SchoolTerm, b: SchoolTerm) -> Bool { (a.year, a.half == .autumn ? 1 : 0) < (b.year, b.half == .autumn ? 1 : 0) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let term = SchoolTerm(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a term: \(text)"))
        }
        self = term
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension FieldReader {
    /// A required school term, `YYYY-spring` or `YYYY-autumn`.
    public func term(_ key: String) throws(Rejection) -> SchoolTerm {
        let raw = try string(key)
        guard let term = SchoolTerm(raw) else { throw violation(key, "\"\(raw)\" is not a term (YYYY-spring or YYYY-autumn)") }
        return term
    }

    /// An optional array of distinct strings, each naming a case of `E` (nil when absent or null).
    public func enumerations<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type, count: ClosedRange<Int>) throws(Rejection) -> [E]
    where E.RawValue == String {
        let elements = try array(key)
        guard count.contains(elements.count) else {
            throw violation(key, "\(elements.count) items is outside \(count.lowerBound)–\(count.upperBound)")
        }
        var values: [E] = []
        for (i, element) in elements.enumerated() {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            guard case .string(let raw) = element else { throw violation("\(key)[\(i)]", "expected a string, got \(element.typeName)") }
            guard let value = E(rawValue: raw) else { throw violation("\(key)[\(i)]", "\"\(raw)\" is not one of \(allowed)") }
            guard !values.contains(where: { $0.rawValue == raw }) else { throw violation("\(key)[\(i)]", "\"\(raw)\" appears twice") }
            values.append(value)
        }
        return values
    }
}
