import HandlerKit

/// Inspection (教育督导), as the seeds state it:
/// - coverage: "每年对全区1/5(约50所)的幼儿园开展办园行为督导评估" (003 §25) — the share of
///   kindergartens with a kindergarten-conduct inspection (办园行为督导评估) this calendar year,
///   kept per district and city by numerator and denominator; the kindergartens are those the
///   enrolment census names (level preschool) or an inspection visits;
/// - rectification: "开展幼儿园办园行为督导评估" (Zibo 2020 §31), "强化督导结果应用" (003 §47) —
///   problems a visit found must be put right by its `rectifyBy`; past it
///   `inspection.rectification_overdue` fires yellow, orange 30 days later.
/// Written against HandlerKit only; its event type `inspection.visit` is in docs/domains.md.
public struct InspectionHandler: Handler {
    public init() {}

    static let coverage = "inspection.kindergarten_coverage"
    static let visits = "inspection.visits"
    static let open = "inspection.open_rectifications"
    static let coverageRef = "District plans (003) §25"
    static let rectificationRef = "Zibo 2020 §31"

    static let overdueRule = RuleSpec(
        "inspection.rectification_overdue", name: "督导发现问题逾期未整改", owner: .school, ackWithin: RuleDuration(5, .workingDays),
        deadlines: ["orange": RuleDuration(30, .days)])

    public var name: String { "Inspection" }
    public var eventTypes: [String] { [InspectionVisit.type, EventType.enrolmentCensus] }
    public var payloadValidators: [String: PayloadValidator] {
        [InspectionVisit.type: { (r: FieldReader) throws(Rejection) in _ = try InspectionVisit(r) }]
    }
    public var manifest: HandlerManifest { Self.manifest }

    /// Made once: the indicators' flush reads it at every event.
    static let manifest = HandlerManifest(
        indicators: [
            IndicatorSpec(Self.coverage, kind: .ratio, name: "本年度幼儿园办园行为督导评估覆盖率"),
            IndicatorSpec(
                Self.visits, kind: .count, measure: .flow,
                filters: [
                    "inspectionType": InspectionVisit.InspectionType.allCases.map(\.rawValue), "level": SchoolLevel.allCases.map(\.rawValue),
                ], name: "督导评估次数", unit: "次"),
            IndicatorSpec(Self.open, kind: .count, name: "督导发现问题尚未整改的督导", unit: "次"),
        ],
        rules: [Self.overdueRule])
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        /// Kindergartens known: school → district.
        var kindergartens = SubjectMap<RegionCode>()
        /// Kindergartens inspected in ``year`` (counted in the coverage numerator).
        var inspected: Set<String> = []
        /// The calendar year the coverage counts.
        var year: Int?
        var visits = SubjectMap<Visit>()
        var deadlines = DeadlineQueue()
        var alerts = AlertBook()
        var indicators = IndicatorBook()
        public init() {}
    }

    struct Visit: Codable, Sendable, Equatable {
        var schoolId: String
        var region: RegionCode
        var findings: Int64
        var rectifyBy: LocalDate?
        var open: Bool
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        roll(&state, context: context, cause: event.id)
        switch event.payload {
        case .enrolmentCensus(let census) where census.level == .preschool:
            know(census.schoolId, region: event.region, state: &state, cause: event.id)
        case .other(let object):
            let visit = try InspectionVisit(FieldReader(object, path: "payload"))
            apply(visit, event: event, state: &state, context: context, out: &out)
        default: break
        }
        out += expire(&state, context: context)
        out += state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest).updates
        return out
    }

    public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        roll(&state, context: context, cause: nil)
        out += state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest, tick: true).updates
        return out
    }

    public func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation? {
        state.indicators.explain(indicator, region: region)
    }

    private func know(_ school: String, region: RegionCode, state: inout State, cause: String) {
        guard state.kindergartens[school] == nil else { return }
        state.kindergartens[school] = region
        state.indicators.add(Self.coverage, kind: .ratio, district: region, denominator: 1, subject: school, cause: cause)
    }

    /// A new calendar year starts the count again: coverage is "每年" (each year).
    private func roll(_ state: inout State, context: HandlerContext, cause: String?) {
        let year = context.now.inChinaTime.localDate.year
        guard let current = state.year else {
            state.year = year
            return
        }
        guard year > current else { return }
        for school in state.inspected.sorted() {
            guard let region = state.kindergartens[school] else { continue }
            state.indicators.add(Self.coverage, kind: .ratio, district: region, numerator: -1, subject: school, cause: cause)
        }
        state.inspected = []
        state.year = year
    }

    private func apply(_ v: InspectionVisit, event: Event, state: inout State, context: HandlerContext, out: inout [HandlerOutput]) {
        let known = state.visits[v.visitId]
        if known == nil {
            state.indicators.add(Self.open, kind: .count, district: event.region)
            state.indicators.record(
                Self.visits, district: event.region, amount: 1, on: v.date,
                facets: ["inspectionType": v.inspectionType.rawValue, "level": v.level.rawValue], plans: context.plans, subject: v.visitId,
                cause: event.id)
        }
        if v.level == .preschool {
            know(v.schoolId, region: event.region, state: &state, cause: event.id)
            if v.inspectionType == .kindergartenConduct, v.date.year == state.year, !state.inspected.contains(v.schoolId) {
                state.inspected.insert(v.schoolId)
                state.indicators.add(
                    Self.coverage, kind: .ratio, district: state.kindergartens[v.schoolId] ?? event.region, numerator: 1, subject: v.schoolId,
                    cause: event.id)
            }
        }
        let open = v.findings > 0 && v.rectifiedOn == nil
        var visit = known ?? Visit(schoolId: v.schoolId, region: event.region, findings: v.findings, rectifyBy: v.rectifyBy, open: false)
        if open && !visit.open {
            state.indicators.add(Self.open, kind: .count, district: visit.region, numerator: 1, subject: v.visitId, cause: event.id)
        }
        if !open && visit.open {
            state.indicators.add(Self.open, kind: .count, district: visit.region, numerator: -1, subject: v.visitId, cause: event.id)
            let fingerprint = "\(Self.overdueRule.id)/\(v.visitId)"
            let summary = "\(v.schoolId) 督导发现的\(visit.findings)项问题已于\(v.rectifiedOn?.description ?? v.date.description)整改完毕"
            if let o = state.alerts.resolve(fingerprint: fingerprint, at: event.occurredAt, causes: [event.id], summary: summary) {
                out.append(o)
            }
        }
        if open, let by = v.rectifyBy, !visit.open || visit.rectifyBy != by {
            state.deadlines.schedule(DeadlineQueue.key("due", by, v.visitId), at: by.adding(days: 1).startInChina)
        }
        visit.findings = v.findings
        visit.rectifyBy = v.rectifyBy
        visit.open = open
        state.visits[v.visitId] = visit
    }

    private func expire(_ state: inout State, context: HandlerContext) -> [HandlerOutput] {
        var out: [HandlerOutput] = []
        for entry in state.deadlines.popDue(now: context.now) {
            guard let parts = entry.parts, let visit = state.visits[parts.subject], visit.open, let by = visit.rectifyBy, by.description == parts.version else {
                continue
            }
            let id = parts.subject
            let due = Timestamp(epochMilliseconds: entry.due)
            let orange = parts.stage == "orange"
            if !orange { state.deadlines.schedule(DeadlineQueue.key("orange", by, id), at: context.due(Self.overdueRule, "orange", from: due)) }
            let late = orange ? "逾期超过\(context.duration(Self.overdueRule, "orange").chinese)" : "已过整改期限(\(by))"
            let firing = AlertBook.Firing(
                rule: Self.overdueRule.id, subjectKey: id, region: visit.region, subject: ["visitId": id, "schoolId": visit.schoolId],
                level: orange ? .orange : .yellow, summary: "\(visit.schoolId) 督导发现问题\(visit.findings)项, \(late)仍未整改",
                planRef: Self.rectificationRef, at: due, causes: [])
            if let o = state.alerts.fire(firing) { out.append(o) }
        }
        return out
    }
}
