/// A rule's time limit, in the unit its plan states it: calendar hours, calendar days, or
/// working days (工作日) on a ``WorkCalendar``.
public struct RuleDuration: Sendable, Equatable, Codable, CustomStringConvertible {
    /// What a rule counts in.
    public enum Unit: String, Sendable, Codable, CaseIterable {
        /// Calendar hours.
        case hours
        /// Calendar days.
        case days
        /// Working days: weekdays that are not statutory holidays, plus make-up working
        /// weekends (调休).
        case workingDays
    }

    /// How many units.
    public var amount: Int
    /// Which unit.
    public var unit: Unit

    /// A duration of `amount` `unit`s.
    public init(_ amount: Int, _ unit: Unit) {
        self.amount = amount
        self.unit = unit
    }

    /// The longest duration a rule may state, in any unit (10,000 hours is over a year).
    public static let maxAmount = 10_000

    /// Parses `24 hours`, `30 days` or `5 workingDays` (1 to ``maxAmount``); nil otherwise.
    public init?(text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let amount = Int(parts[0]), (1...Self.maxAmount).contains(amount),
            let unit = Unit(rawValue: String(parts[1]))
        else {
            return nil
        }
        self.init(amount, unit)
    }

    private enum CodingKeys: String, CodingKey { case amount, unit }

    /// As encoded, within the same bounds as ``init(text:)``: a duration from a plugin's
    /// manifest or a stored state reaches the calendar's arithmetic, which a larger amount
    /// would overflow.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let amount = try c.decode(Int.self, forKey: .amount)
        guard (1...Self.maxAmount).contains(amount) else {
            throw DecodingError.dataCorruptedError(
                forKey: .amount, in: c, debugDescription: "a rule's duration is 1 to \(Self.maxAmount) units, not \(amount)")
        }
        self.init(amount, try c.decode(Unit.self, forKey: .unit))
    }

    /// `24 hours`, `30 days`, `5 workingDays`.
    public var description: String { "\(amount) \(unit.rawValue)" }

    /// In Chinese, for alert summaries: `24小时`, `30天`, `5个工作日`.
    public var chinese: String {
        switch unit {
        case .hours: "\(amount)小时"
        case .days: "\(amount)天"
        case .workingDays: "\(amount)个工作日"
        }
    }
}

/// The deadlines a deployment sets for its rules, by rule and deadline name; a handler asks
/// for one with its DOMAIN.md default, e.g.
/// `context.timings.duration("safety.incident_overdue", "redOrange", default: RuleDuration(24, .hours))`.
public struct RuleTimings: Sendable, Equatable, Codable {
    private var overrides: [String: RuleDuration]

    /// Overrides keyed `rule.deadline`, e.g. `enrolment.dropout_open.yellow`.
    public init(_ overrides: [String: RuleDuration] = [:]) { self.overrides = overrides }

    /// The configured duration of `rule`'s `deadline`, or `fallback`.
    public func duration(_ rule: String, _ deadline: String, default fallback: RuleDuration) -> RuleDuration {
        overrides["\(rule).\(deadline)"] ?? fallback
    }
}
