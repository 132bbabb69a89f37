/// Where a plan's target stands (DOMAIN.md "Targets").
public enum TargetStatus: String, Sendable, CaseIterable, Codable {
    case met, onTrack, atRisk, offTrack
}

/// A plan target for one indicator: a bound, a deadline and the article it comes from.
public struct Target: Sendable, Equatable, Codable {
    public enum Comparison: String, Sendable, CaseIterable, Codable { case atLeast, atMost, equals }
    public var comparison: Comparison
    public var value: Double
    public var deadline: LocalDate
    public var planRef: String

    public init(comparison: Comparison, value: Double, deadline: LocalDate, planRef: String) {
        self.comparison = comparison
        self.value = value
        self.deadline = deadline
        self.planRef = planRef
    }

    /// True when `value` satisfies the target.
    public func holds(for actual: Double) -> Bool {
        switch comparison {
        case .atLeast: actual >= value - 1e-12
        case .atMost: actual <= value + 1e-12
        case .equals: abs(actual - value) < 1e-9
        }
    }
}

/// The scope an indicator value is kept at.
public enum IndicatorScope: String, Sendable, Codable, CaseIterable { case school, district, city, province }

/// An indicator value as published on `indicator.<id>.<region>`.
public struct IndicatorUpdate: Sendable, Equatable, Codable {
    public var indicator: String
    public var scope: IndicatorScope
    public var region: RegionCode
    public var value: Double?
    public var numerator: Int64?
    public var denominator: Int64?
    public var target: Target?
    public var status: TargetStatus?
    public var asOf: Timestamp
    /// The version of the indicator's definition (how it is counted), from its handler's manifest.
    public var definitionVersion: Int64 = 1
    /// Ids of the events that changed it since its last update (none when time alone did).
    public var changedBy: [String] = []
    /// 0, or how many times the value was revised for events that arrived late.
    public var revision: Int64 = 0
    /// With a target: the plan it comes from, e.g. `Zibo 2020`.
    public var plan: String?
    /// With a target: the days it counts and judges, from the plan period's start to the deadline.
    public var period: Plan.Period?
    /// With a target on a level: the value progress is measured from.
    public var baseline: Double?
    /// With a target: true once its deadline has passed — the verdict of record for that plan.
    public var final: Bool = false
    /// For a target that counts only some of an indicator: the indicator it counts, and what
    /// of it (`category: [...]`, `work: [...]`, `ownership: [...]`).
    public var measures: String?
    public var filter: [String: [String]]?

    public init(
        indicator: String, scope: IndicatorScope, region: RegionCode, value: Double?, numerator: Int64? = nil,
        denominator: Int64? = nil, target: Target? = nil, status: TargetStatus? = nil, asOf: Timestamp
    ) {
        self.indicator = indicator
        self.scope = scope
        self.region = region
        self.value = value
        self.numerator = numerator
        self.denominator = denominator
        self.target = target
        self.status = status
        self.asOf = asOf
    }

    /// `indicator.<id>.<region>`.
    public var topic: String { "indicator.\(indicator).\(region.code)" }

    /// The contract's body, with the output sequence number: JSON, every member present (null
    /// when unset), in this order.
    public func body(seq: Int64) -> [UInt8] {
        var o = JSONWriter.Object()
        o.member("indicator", indicator)
        o.member("scope", scope.rawValue)
        o.member("region", region.code)
        o.member("value", value)
        o.member("numerator", numerator)
        o.member("denominator", denominator)
        o.member("target", object: target) { o, t in
            switch t.comparison {
            case .atLeast: o.member("atLeast", t.value)
            case .atMost: o.member("atMost", t.value)
            case .equals: o.member("equals", t.value)
            }
            o.member("deadline", t.deadline.description)
            o.member("planRef", t.planRef)
        }
        o.member("status", status?.rawValue)
        o.member("asOf", asOf)
        o.member("definitionVersion", definitionVersion)
        o.member("changedBy", changedBy)
        o.member("revision", revision)
        o.member("plan", plan)
        o.member("period", object: period) { o, p in
            o.member("start", p.start.description)
            o.member("end", p.end.description)
        }
        o.member("baseline", baseline)
        o.member("final", final)
        o.member("measures", measures)
        o.member("filter", sorted: filter)
        o.member("seq", seq)
        return o.bytes()
    }
}

/// One subject's share of an indicator value: a school's pupils, an oversized class, an
/// open incident, a project.
public struct IndicatorContribution: Sendable, Equatable, Codable {
    /// Whose share: `370303-0042`, `370303-0042/3-2`, `INC-2026-0311`, `P-2020-017`, …
    public var subject: String
    /// The district (or city) it was counted in.
    public var region: RegionCode
    public var numerator: Int64
    public var denominator: Int64
    /// The events that last changed it, oldest first (at most ``eventsKept``).
    public var events: [String]
    public static let eventsKept = 5

    public init(subject: String, region: RegionCode, numerator: Int64, denominator: Int64, events: [String]) {
        self.subject = subject
        self.region = region
        self.numerator = numerator
        self.denominator = denominator
        self.events = events
    }
}

/// An indicator value with what makes it up (`planwatch explain`).
public struct IndicatorExplanation: Sendable, Equatable, Codable {
    public var indicator: String
    public var region: RegionCode
    public var value: Double?
    public var numerator: Int64
    public var denominator: Int64?
    public var revision: Int64
    public var contributions: [IndicatorContribution]

    public init(
        indicator: String, region: RegionCode, value: Double?, numerator: Int64, denominator: Int64?, revision: Int64,
        contributions: [IndicatorContribution]
    ) {
        self.indicator = indicator
        self.region = region
        self.value = value
        self.numerator = numerator
        self.denominator = denominator
        self.revision = revision
        self.contributions = contributions
    }
}
