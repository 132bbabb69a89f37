/// A plan as data: targets per indicator and scope, from one city's work plan for one period.
public struct Plan: Sendable, Equatable, Codable {
    /// The short name used in `planRef`, e.g. `Zibo 2020`.
    public var plan: String
    /// The document's title.
    public var title: String
    /// The city the plan governs.
    public var city: RegionCode
    /// Where the plan comes from (file in seeds/, URL, document number).
    public var source: String?
    /// The plan period; a target is judged inside it only.
    public var period: Period
    /// The city's districts, so that a target set for each of them is judged in every one,
    /// also in a district no event has come from yet.
    public var districts: [RegionCode]
    /// The safety severity table's numbers where this plan changes them.
    public var severity: SeverityOverride?
    public var targets: [PlanTarget]
    /// Names of the city and its districts by code (淄博市, 张店区, …), for people reading verdicts.
    public var names: [String: String]?

    public init(
        plan: String, title: String, city: RegionCode, source: String?, period: Period, districts: [RegionCode] = [],
        severity: SeverityOverride? = nil, targets: [PlanTarget], names: [String: String]? = nil
    ) {
        self.names = names
        self.plan = plan
        self.title = title
        self.city = city
        self.source = source
        self.period = period
        self.districts = districts
        self.severity = severity
        self.targets = targets
    }

    public struct Period: Sendable, Equatable, Codable {
        public var start: LocalDate
        public var end: LocalDate
        public init(start: LocalDate, end: LocalDate) {
            self.start = start
            self.end = end
        }
    }
}

/// Where a target applies.
public enum TargetScope: Sendable, Equatable, Codable, Hashable {
    /// The city as a whole.
    case city
    /// One district.
    case district(RegionCode)
    /// Every district of the city, each judged on its own (`各区县…`).
    case eachDistrict
}

/// One target of a plan.
public struct PlanTarget: Sendable, Equatable, Codable {
    /// The indicator it judges, e.g. `projects.completed`.
    public var indicator: String
    /// The name its values are published under (`indicator.<series>.<region>`): the
    /// indicator's own id unless the target counts only some of it (a filter) and says so.
    public var series: String
    public var scope: TargetScope
    /// What it counts of a flow indicator, e.g. `category: [primary, junior, nineYear, senior]`.
    public var filter: [String: [String]]
    public var atLeast: Double?
    public var atMost: Double?
    public var equals: Double?
    /// The value at the period's start, from which progress is measured; nil: the value
    /// observed when the period starts (for a count of things that happen: 0).
    public var baseline: Double?
    public var deadline: LocalDate
    /// The article, e.g. `Zibo 2020 §6`.
    public var planRef: String
    /// The plan's own words.
    public var text: String?

    public init(
        indicator: String, series: String? = nil, scope: TargetScope, filter: [String: [String]] = [:], atLeast: Double? = nil,
        atMost: Double? = nil, equals: Double? = nil, baseline: Double? = nil, deadline: LocalDate, planRef: String, text: String? = nil
    ) {
        self.indicator = indicator
        self.series = series ?? indicator
        self.scope = scope
        self.filter = filter
        self.atLeast = atLeast
        self.atMost = atMost
        self.equals = equals
        self.baseline = baseline
        self.deadline = deadline
        self.planRef = planRef
        self.text = text
    }

    /// The bound as a ``Target``.
    public var target: Target {
        if let atLeast { return Target(comparison: .atLeast, value: atLeast, deadline: deadline, planRef: planRef) }
        if let atMost { return Target(comparison: .atMost, value: atMost, deadline: deadline, planRef: planRef) }
        return Target(comparison: .equals, value: equals ?? 0, deadline: deadline, planRef: planRef)
    }

    /// True when a thing with these facets (`category: kindergarten`, …) counts toward it.
    public func counts(_ facets: [String: String]) -> Bool {
        filter.allSatisfy { name, values in facets[name].map(values.contains) ?? false }
    }
}

/// The safety severity table's numbers a plan sets (those it leaves out keep DOMAIN.md's).
public struct SeverityOverride: Sendable, Equatable, Codable {
    public var redDeaths: Int64?
    public var redAffected: Int64?
    public var orangeDeaths: Int64?
    public var orangeInjured: Int64?
    public var orangeAffected: Int64?
    public var yellowInjured: Int64?
    public var yellowAffected: Int64?
    /// Incident categories that are yellow at least, whatever the numbers.
    public var yellowCategories: [String]?

    public init(
        redDeaths: Int64? = nil, redAffected: Int64? = nil, orangeDeaths: Int64? = nil, orangeInjured: Int64? = nil,
        orangeAffected: Int64? = nil, yellowInjured: Int64? = nil, yellowAffected: Int64? = nil, yellowCategories: [String]? = nil
    ) {
        self.redDeaths = redDeaths
        self.redAffected = redAffected
        self.orangeDeaths = orangeDeaths
        self.orangeInjured = orangeInjured
        self.orangeAffected = orangeAffected
        self.yellowInjured = yellowInjured
        self.yellowAffected = yellowAffected
        self.yellowCategories = yellowCategories
    }
}

/// The plans a daemon loaded, and what a verdict means (DOMAIN.md "What a verdict means";
/// docs/verdicts.md).
public struct PlanSet: Sendable, Equatable {
    public var plans: [Plan] { didSet { index() } }
    /// How far behind the elapsed share of the period is still `atRisk`, in percentage points.
    public var atRiskMarginPoints: Double
    /// Every target of every plan, made once: handlers ask for them on every flush.
    public private(set) var assignments: [Assignment] = []
    /// The assignments by the series they judge and by the indicator they count.
    private var bySeries: [String: [Assignment]] = [:]
    private var byIndicator: [String: [Assignment]] = [:]

    public init(plans: [Plan] = [], atRiskMarginPoints: Double = 10) {
        self.plans = plans
        self.atRiskMarginPoints = atRiskMarginPoints
        index()
    }

    private mutating func index() {
        assignments = plans.flatMap { p in
            p.targets.map { Assignment(target: $0, plan: p.plan, city: p.city, period: p.period, districts: p.districts) }
        }
        bySeries = Dictionary(grouping: assignments, by: \.target.series)
        byIndicator = Dictionary(grouping: assignments, by: \.target.indicator)
    }

    public static func == (a: PlanSet, b: PlanSet) -> Bool { a.plans == b.plans && a.atRiskMarginPoints == b.atRiskMarginPoints }

    /// A target with the plan it belongs to.
    public struct Assignment: Sendable, Equatable {
        public var target: PlanTarget
        public var plan: String
        public var city: RegionCode
        public var period: Plan.Period
        public var districts: [RegionCode]

        /// The days it counts and is judged in: from the period's start to the deadline.
        public var window: ClosedRange<Int> { period.start.dayNumber...max(period.start.dayNumber, target.deadline.dayNumber) }

        /// True when it judges the value at `region`.
        public func applies(to region: RegionCode) -> Bool {
            switch target.scope {
            case .city: region == city
            case .district(let d): region == d
            case .eachDistrict: region.isDistrict && region.city == city
            }
        }

        /// The regions it is judged at from the start, data or not: the city, the district,
        /// or every district the plan lists.
        public var regions: [RegionCode] {
            switch target.scope {
            case .city: [city]
            case .district(let d): [d]
            case .eachDistrict: districts
            }
        }

        /// A key naming it among all loaded targets.
        public var key: String {
            let scope: String
            switch target.scope {
            case .city: scope = "city"
            case .district(let d): scope = d.code
            case .eachDistrict: scope = "eachDistrict"
            }
            return "\(plan)|\(target.series)|\(scope)"
        }
    }

    /// The targets that count things of `indicator` (a flow) happening on `date` at `district`
    /// with these facets: each is counted at its own regions (the district, and the city).
    public func counting(_ indicator: String, district: RegionCode, on date: LocalDate, facets: [String: String]) -> [Assignment] {
        (byIndicator[indicator] ?? []).filter { a in
            a.window.contains(date.dayNumber) && a.target.counts(facets)
                && (a.applies(to: district) || a.applies(to: district.city))
        }
    }

    /// The target a series at `region` is judged against on `date`: the one in force (its
    /// period has begun and its deadline not passed), else the latest one whose deadline has
    /// passed (its verdict is final), else none — a plan that has not begun judges nothing.
    public func judging(_ series: String, at region: RegionCode, on date: LocalDate) -> Assignment? {
        let candidates = (bySeries[series] ?? []).filter { $0.applies(to: region) }
        let day = date.dayNumber
        if let current = candidates.filter({ $0.window.contains(day) }).min(by: { $0.target.deadline < $1.target.deadline }) {
            return current
        }
        return candidates.filter { $0.window.upperBound < day }.max { $0.target.deadline < $1.target.deadline }
    }

    /// The severity numbers of the plan in force for `city` on `date` (the latest begun).
    public func severity(for city: RegionCode, on date: LocalDate) -> SeverityOverride? {
        plans.filter { $0.city == city && $0.severity != nil && $0.period.start <= date }
            .max { $0.period.start < $1.period.start }?.severity
    }

    /// The verdict on `value` against `a` on `date`: `met` when the target holds; otherwise
    /// `onTrack` when progress from `baseline` is at least the elapsed share of the window,
    /// `atRisk` when behind it by less than the margin, `offTrack` past the margin or past
    /// the deadline. Nil when there is no value to judge.
    ///
    /// A count (`whole`) moves by whole things: it is on track while it is not a whole thing
    /// behind — 0 of 103 kindergartens on 2 January is not behind yet, 0 in February is.
    public func status(of value: Double?, baseline: Double?, against a: Assignment, on date: LocalDate, whole: Bool = false) -> TargetStatus? {
        guard let value else { return nil }
        let t = a.target.target
        if t.holds(for: value) { return .met }
        if date > t.deadline { return .offTrack }
        let window = a.window
        let length = Double(window.upperBound - window.lowerBound)
        let elapsed = length > 0 ? min(1, max(0, Double(date.dayNumber - window.lowerBound) / length)) : 1
        let base = a.target.baseline ?? baseline
        let from: Double
        let done: Double
        switch t.comparison {
        case .atLeast:
            from = base ?? 0
            done = value - from
        case .atMost:
            from = base ?? value
            done = from - value
        case .equals:
            return elapsed < 1 ? .atRisk : .offTrack
        }
        let span = abs(t.value - from)
        let progress = span > 0 ? done / span : 0
        if whole && span > 0 && done >= (elapsed * span).rounded(.down) { return .onTrack }
        let behind = (elapsed - progress) * 100
        if behind <= 0 { return .onTrack }
        return behind < atRiskMarginPoints ? .atRisk : .offTrack
    }
}
