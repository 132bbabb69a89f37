import HandlerKit

/// Off-campus training enforcement (校外培训治理, 双减), as the seeds state it:
/// "巩固学科类培训机构整治成果, 积极开展常态巡查, 强化联合执法机制, 加大对隐形变异培训查处力度,
/// 坚决防止校外学科培训反弹" (City 2023 §7); "规范民办学校(培训机构)办学行为" (Zibo 2020 §20);
/// "严肃查处中小学在职教师从事有偿补课" (Zibo 2020 §26); "定期联合开展校外培训机构巡查执法活动"
/// (003 §46). Every patrol counts (`training.inspections`); one that finds violations opens a
/// case (`training.open_violations`) that must be rectified by its `rectifyBy`: past it
/// `training.violation_overdue` fires yellow, orange 10 working days later (enforcement
/// deadlines count working days).
/// Written against HandlerKit only; its event type `training.inspection` is in docs/domains.md.
public struct OffCampusTrainingHandler: Handler {
    public init() {}

    static let inspections = "training.inspections"
    static let open = "training.open_violations"
    static let planRef = "City 2023 §7"
    static let paidTutoringRef = "Zibo 2020 §26"

    static let overdueRule = RuleSpec(
        "training.violation_overdue", name: "校外培训违规逾期未整改", owner: .district, ackWithin: RuleDuration(3, .workingDays),
        deadlines: ["orange": RuleDuration(10, .workingDays)])

    public var name: String { "OffCampusTraining" }
    public var eventTypes: [String] { [TrainingInspection.type] }
    public var payloadValidators: [String: PayloadValidator] {
        [TrainingInspection.type: { (r: FieldReader) throws(Rejection) in _ = try TrainingInspection(r) }]
    }
    public var manifest: HandlerManifest { Self.manifest }

    /// Made once: the indicators' flush reads it at every event.
    static let manifest = HandlerManifest(
        indicators: [
            IndicatorSpec(
                Self.inspections, kind: .count, measure: .flow, filters: ["outcome": ["compliant", "violations"]], name: "校外培训机构巡查",
                unit: "次"),
            IndicatorSpec(Self.open, kind: .count, name: "未整改的校外培训违规", unit: "起"),
        ],
        rules: [Self.overdueRule])
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        var cases = SubjectMap<Case>()
        var deadlines = DeadlineQueue()
        var alerts = AlertBook()
        var indicators = IndicatorBook()
        public init() {}
    }

    struct Case: Codable, Sendable, Equatable {
        var institutionId: String
        var institutionName: String?
        var region: RegionCode
        var violations: [TrainingInspection.Violation]
        var rectifyBy: LocalDate?
        var open: Bool
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        guard case .other(let object) = event.payload else { return out }
        let t = try TrainingInspection(FieldReader(object, path: "payload"))
        let known = state.cases[t.inspectionId]
        if known == nil {
            // Zero open cases is a value too: a plan judges it ("atMost: 0").
            state.indicators.add(Self.open, kind: .count, district: event.region)
            state.indicators.record(
                Self.inspections, district: event.region, amount: 1, on: t.date,
                facets: ["outcome": t.violations.isEmpty ? "compliant" : "violations"], plans: context.plans, subject: t.inspectionId,
                cause: event.id)
        }
        var c =
            known
            ?? Case(institutionId: t.institutionId, institutionName: t.institutionName, region: event.region, violations: t.violations, open: false)
        if t.isOpen && !c.open {
            state.indicators.add(Self.open, kind: .count, district: c.region, numerator: 1, subject: t.inspectionId, cause: event.id)
        }
        if t.isOpen, let by = t.rectifyBy, !c.open || c.rectifyBy != by {
            state.deadlines.schedule(DeadlineQueue.key("due", by, t.inspectionId), at: by.adding(days: 1).startInChina)
        }
        if !t.isOpen && c.open {
            state.indicators.add(Self.open, kind: .count, district: c.region, numerator: -1, subject: t.inspectionId, cause: event.id)
            let summary = "\(Self.who(c)) 违规问题已整改(\(t.inspectionId))"
            if let o = state.alerts.resolve(
                fingerprint: "\(Self.overdueRule.id)/\(t.inspectionId)", at: event.occurredAt, causes: [event.id], summary: summary)
            {
                out.append(o)
            }
        }
        c.violations = t.violations
        c.rectifyBy = t.rectifyBy
        c.open = t.isOpen
        if let name = t.institutionName { c.institutionName = name }
        state.cases[t.inspectionId] = c
        out += expire(&state, context: context)
        out += state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest).updates
        return out
    }

    public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        expire(&state, context: context) + state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest, tick: true).updates
    }

    public func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation? {
        state.indicators.explain(indicator, region: region)
    }

    static func who(_ c: Case) -> String {
        c.institutionName.map { "\($0)(\(c.institutionId))" } ?? c.institutionId
    }

    private func expire(_ state: inout State, context: HandlerContext) -> [HandlerOutput] {
        var out: [HandlerOutput] = []
        for entry in state.deadlines.popDue(now: context.now) {
            guard let parts = entry.parts, let c = state.cases[parts.subject], c.open, let by = c.rectifyBy, by.description == parts.version else { continue }
            let id = parts.subject
            let due = Timestamp(epochMilliseconds: entry.due)
            let orange = parts.stage == "orange"
            if !orange { state.deadlines.schedule(DeadlineQueue.key("orange", by, id), at: context.due(Self.overdueRule, "orange", from: due)) }
            let what = c.violations.map(\.chinese).joined(separator: "、")
            let late = orange ? "逾期超过\(context.duration(Self.overdueRule, "orange").chinese)" : "已过整改期限(\(by))"
            let firing = AlertBook.Firing(
                rule: Self.overdueRule.id, subjectKey: id, region: c.region, subject: ["inspectionId": id, "institutionId": c.institutionId],
                level: orange ? .orange : .yellow, summary: "\(Self.who(c)) 存在\(what)问题, \(late)仍未整改",
                planRef: c.violations == [.paidTutoring] ? Self.paidTutoringRef : Self.planRef, at: due, causes: [])
            if let o = state.alerts.fire(firing) { out.append(o) }
        }
        return out
    }
}

extension TrainingInspection.Violation {
    /// In Chinese, for summaries.
    var chinese: String {
        switch self {
        case .hiddenVariant: "隐形变异培训"
        case .paidTutoring: "在职教师有偿补课"
        case .aheadOfCurriculum: "超标超前培训"
        case .unlicensed: "无证办学"
        case .other: "其他违规"
        }
    }
}
