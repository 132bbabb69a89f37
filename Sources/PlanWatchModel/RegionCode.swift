/// A Chinese administrative division code (行政区划代码): six digits, e.g. `370303`
/// (Zhangdian district), whose city is `370300` and province `370000`.
public struct RegionCode: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The six digits.
    public let code: String

    /// A region from six ASCII digits; nil otherwise.
    public init?(_ code: String) {
        guard code.utf8.count == 6, code.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        self.code = code
    }

    /// The city this region belongs to: the first four digits and `00`.
    public var city: RegionCode { RegionCode(unchecked: String(code.prefix(4)) + "00") }
    /// The province: the first two digits and `0000`.
    public var province: RegionCode { RegionCode(unchecked: String(code.prefix(2)) + "0000") }
    /// True for a city-level code (`xxxx00`, not a province).
    public var isCity: Bool { code.hasSuffix("00") && !code.hasSuffix("0000") }
    /// True for a district or county (last two digits not `00`).
    public var isDistrict: Bool { !code.hasSuffix("00") }
    /// The scope of an indicator kept at this region: district, city or province.
    public var scope: IndicatorScope { isDistrict ? .district : isCity ? .city : .province }

    init(unchecked code: String) { self.code = code }

    public var description: String { code }
    public static func < (lhs: RegionCode, rhs: RegionCode) -> Bool { lhs.code < rhs.code }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = RegionCode(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a 6-digit region code: \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}
