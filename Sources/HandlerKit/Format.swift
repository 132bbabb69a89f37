/// Numbers as operators read them in summaries, without Foundation.
public enum Format {
    /// `0.4712` → `47.1%` (one decimal).
    public static func percent(_ ratio: Double?) -> String {
        guard let ratio, ratio.isFinite else { return "-" }
        let tenths = Int64((ratio * 1000).rounded())
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)%"
    }

    /// `0.5` → `50%` (whole percent).
    public static func wholePercent(_ ratio: Double) -> String { "\(Int64((ratio * 100).rounded()))%" }

    /// A count: `33.0` → `33`, other values with up to two decimals.
    public static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        if value == value.rounded() { return String(Int64(value)) }
        return String(Double(Int64((value * 100).rounded())) / 100)
    }
}
