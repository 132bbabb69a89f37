import HandlerKit

/// Finance (经费保障): the "two only-increase" (两个只增不减) of the 2023 plan (000 §20) —
/// general-budget education spending and per-pupil spending must not fall year on year.
/// Written against HandlerKit only, as an outside author would; its event type is
/// `finance.budget` (docs/domains.md).
public struct FinanceHandler: Handler {
    public init() {}

    public var name: String { "Finance" }
    public static let eventType = "finance.budget"
    public var eventTypes: [String] { [Self.eventType] }
    public var payloadValidators: [String: PayloadValidator] { [Self.eventType: { (r: FieldReader) throws(Rejection) in _ = try Budget(r) }] }
    public func makeInitialState() -> State { State() }

    static let decreased = RuleSpec(
        "finance.spending_decreased", name: "教育经费未做到只增不减", owner: .city, ackWithin: RuleDuration(10, .workingDays))

    public var manifest: HandlerManifest { Self.manifest }

    /// Made once: the indicators' flush reads it at every event.
    static let manifest = HandlerManifest(
        indicators: [
            IndicatorSpec("finance.education_spending", kind: .count, name: "一般公共预算教育支出", unit: "元"),
            IndicatorSpec("finance.per_pupil_spending", kind: .count, name: "生均一般公共预算教育支出", unit: "元"),
        ],
        rules: [Self.decreased])

    public struct State: Codable, Sendable, Equatable {
        /// Per region: year → the budget reported for it.
        var budgets: [String: [Int64: Budget]] = [:]
        var alerts = AlertBook()
        public init() {}
    }

    /// `finance.budget` payload: a region's spending for one year, in yuan.
    struct Budget: Codable, Sendable, Equatable {
        var year: Int64
        var educationSpending: Int64
        var perPupilSpending: Int64

        init(_ r: FieldReader) throws(Rejection) {
            year = try r.integer("year", in: 1990...2100)
            educationSpending = try r.integer("educationSpending", in: 0...Int64(1e15))
            perPupilSpending = try r.integer("perPupilSpending", in: 0...Int64(1e9))
        }
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        guard case .other(let object) = event.payload else { return [] }
        let budget = try Budget(FieldReader(object, path: "payload"))
        let region = event.region
        state.budgets[region.code, default: [:]][budget.year] = budget
        var out: [HandlerOutput] = [
            .indicator(
                IndicatorUpdate(
                    indicator: "finance.education_spending", scope: region.isDistrict ? .district : .city, region: region,
                    value: Double(budget.educationSpending), asOf: context.now)),
            .indicator(
                IndicatorUpdate(
                    indicator: "finance.per_pupil_spending", scope: region.isDistrict ? .district : .city, region: region,
                    value: Double(budget.perPupilSpending), asOf: context.now)),
        ]
        // Compare each reported year with the one before it (a late report of an earlier
        // year is compared too).
        for year in [budget.year, budget.year + 1] {
            guard let current = state.budgets[region.code]?[year], let previous = state.budgets[region.code]?[year - 1] else { continue }
            out += compare(current, previous, region: region, state: &state, now: context.now, cause: event.id)
        }
        return out
    }

    private func compare(_ current: Budget, _ previous: Budget, region: RegionCode, state: inout State, now: Timestamp, cause: String)
        -> [HandlerOutput]
    {
        var out: [HandlerOutput] = []
        let checks: [(key: String, name: String, now: Int64, before: Int64)] = [
            ("education_spending", "一般公共预算教育支出", current.educationSpending, previous.educationSpending),
            ("per_pupil_spending", "生均一般公共预算教育支出", current.perPupilSpending, previous.perPupilSpending),
        ]
        for check in checks {
            let subjectKey = "\(region.code)/\(check.key)/\(current.year)"
            if check.now < check.before {
                let firing = AlertBook.Firing(
                    rule: Self.decreased.id, subjectKey: subjectKey, region: region,
                    subject: ["region": region.code, "year": String(current.year), "measure": check.key], level: .orange,
                    summary: "\(region.code) \(current.year)年\(check.name)\(check.now)元, 低于\(previous.year)年的\(check.before)元, 未做到只增不减",
                    planRef: "City 2023 §20", at: now, causes: [cause])
                if let o = state.alerts.fire(firing) { out.append(o) }
            } else if let o = state.alerts.resolve(
                fingerprint: "\(Self.decreased.id)/\(subjectKey)", at: now, causes: [cause],
                summary: "\(region.code) \(current.year)年\(check.name)已不低于上年")
            {
                out.append(o)
            }
        }
        return out
    }
}
