/// Whole numbers from peers, kept where no arithmetic on them can trap.
///
/// The contract bounds every integer a peer sends (CONTRACT.md, docs/contract.md): `seq` and
/// the indicator feed's numbers are at most ``max`` (2^53 − 1, the largest integer every
/// JSON implementation reads exactly), payload counts far less. Sums of valid values can
/// still grow past any bound over years of events, so running totals use ``add(_:_:)``,
/// which stops at the ends of `Int64` instead of trapping.
public enum SafeInteger {
    /// 2^53 − 1 (JavaScript's `Number.MAX_SAFE_INTEGER`).
    public static let max: Int64 = 9_007_199_254_740_991

    /// `a + b`, clamped to `Int64`'s range instead of trapping.
    @inlinable
    public static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard overflow else { return sum }
        return b > 0 ? .max : .min
    }

    /// `a - b`, clamped to `Int64`'s range instead of trapping.
    @inlinable
    public static func subtract(_ a: Int64, _ b: Int64) -> Int64 {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        guard overflow else { return difference }
        return b < 0 ? .max : .min
    }

    /// `a * b`, clamped to `Int64`'s range instead of trapping.
    @inlinable
    public static func multiply(_ a: Int64, _ b: Int64) -> Int64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard overflow else { return product }
        return (a < 0) == (b < 0) ? .max : .min
    }
}
