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
    /// The plan period; progress is measured against the elapsed share of it.
    public var period: Period
    public var targets: [PlanTarget]

    public init(plan: String, title: String, city: RegionCode, source: String?, period: Period, targets: [PlanTarget]) {
        self.plan = plan
        self.title = title
        self.city = city
        self.source = source
        self.period = period
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

/// One target of a plan.
public struct PlanTarget: Sendable, Equatable, Codable {
    /// The indicator id, e.g. `preschool.public_share`.
    public var indicator: String
    /// `city`: the city as a whole; `district`: every district of the city (or only `region`).
    public var scope: IndicatorScope
    /// A single district, when the target names one.
    public var region: RegionCode?
    public var atLeast: Double?
    public var atMost: Double?
    public var equals: Double?
    /// The value at the plan's start, from which progress is measured (default: 0 for
    /// atLeast targets, the first value observed for atMost targets).
    public var baseline: Double?
    public var deadline: LocalDate
    /// The article, e.g. `Zibo 2020 §6`.
    public var planRef: String
    /// The plan's own words.
    public var text: String?

    public init(
        indicator: String, scope: IndicatorScope, region: RegionCode? = nil, atLeast: Double? = nil, atMost: Double? = nil,
        equals: Double? = nil, baseline: Double? = nil, deadline: LocalDate, planRef: String, text: String? = nil
    ) {
        self.indicator = indicator
        self.scope = scope
        self.region = region
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
}

/// The plans a daemon loaded, and target status as DOMAIN.md defines it.
public struct PlanSet: Sendable, Equatable {
    public var plans: [Plan]
    /// How far behind the elapsed share of the period is still `atRisk`, in percentage points.
    public var atRiskMarginPoints: Double

    public init(plans: [Plan] = [], atRiskMarginPoints: Double = 10) {
        self.plans = plans
        self.atRiskMarginPoints = atRiskMarginPoints
    }

    /// A target and its plan, for an indicator kept at `region` (a district or a city).
    public struct Match: Sendable, Equatable {
        public var target: PlanTarget
        public var period: Plan.Period
    }

    /// The target for `indicator` at `region` on `date`. Where several plans set one, the plan
    /// whose period holds the date wins; before any period, the next to start; after all, the
    /// one with the latest deadline.
    public func target(for indicator: String, region: RegionCode, on date: LocalDate) -> Match? {
        var candidates: [Match] = []
        for plan in plans where plan.city == region.city {
            for t in plan.targets where t.indicator == indicator {
                let applies: Bool =
                    region.isCity ? t.scope == .city : (t.scope == .district && (t.region == nil || t.region == region))
                if applies { candidates.append(Match(target: t, period: plan.period)) }
            }
        }
        if let current = candidates.filter({ $0.period.start <= date && date <= $0.period.end }).max(by: { $0.target.deadline < $1.target.deadline }) {
            return current
        }
        if let next = candidates.filter({ $0.period.start > date }).min(by: { $0.period.start < $1.period.start }) {
            return next
        }
        return candidates.max(by: { $0.target.deadline < $1.target.deadline })
    }

    /// `met` when the target holds; otherwise `onTrack` when progress is at least the elapsed
    /// share of the period, `atRisk` when behind it by less than the margin, `offTrack` past
    /// the margin or past the deadline.
    public func status(of value: Double?, against match: Match, baseline observed: Double?, on date: LocalDate) -> TargetStatus? {
        guard let value else { return nil }
        let t = match.target.target
        if t.holds(for: value) { return .met }
        if date > t.deadline { return .offTrack }
        let start = Double(match.period.start.dayNumber)
        let end = Double(max(match.period.end.dayNumber, match.target.deadline.dayNumber))
        let elapsed = end > start ? min(1, max(0, (Double(date.dayNumber) - start) / (end - start))) : 1
        let progress: Double
        switch t.comparison {
        case .atLeast:
            let base = match.target.baseline ?? 0
            progress = t.value > base ? (value - base) / (t.value - base) : 0
        case .atMost:
            let base = match.target.baseline ?? observed ?? value
            progress = base > t.value ? (base - value) / (base - t.value) : 0
        case .equals:
            return .offTrack
        }
        let behind = (elapsed - progress) * 100
        if behind <= 0 { return .onTrack }
        return behind < atRiskMarginPoints ? .atRisk : .offTrack
    }
}
