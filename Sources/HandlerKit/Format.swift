/// Numbers as operators read them in summaries, without Foundation. Any finite value is
/// written, however large (a value beyond ±10^15 is written as Swift prints a `Double`):
/// nothing here can trap on what a peer sent.
public enum Format {
    /// Beyond this magnitude a value is not rounded to an integer (which could overflow).
    static let roundable = 1e15

    /// `0.4712` → `47.1%` (one decimal).
    public static func percent(_ ratio: Double?) -> String {
        guard let ratio, ratio.isFinite else { return "-" }
        guard abs(ratio * 1000) < roundable else { return "\(ratio * 100)%" }
        let tenths = Int64((ratio * 1000).rounded())
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)%"
    }

    /// `0.5` → `50%` (whole percent).
    public static func wholePercent(_ ratio: Double) -> String {
        guard ratio.isFinite else { return "-" }
        guard abs(ratio * 100) < roundable else { return "\(ratio * 100)%" }
        return "\(Int64((ratio * 100).rounded()))%"
    }

    /// A count: `33.0` → `33`, other values with up to two decimals.
    public static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        guard abs(value * 100) < roundable else { return "\(value)" }
        if value == value.rounded() { return String(Int64(value)) }
        return String(Double(Int64((value * 100).rounded())) / 100)
    }
}
