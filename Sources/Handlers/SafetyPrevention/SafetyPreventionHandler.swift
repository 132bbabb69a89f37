import HandlerKit

/// Safety prevention (隐患排查与应急演练), as the seeds state it:
/// - hazards: "深入开展安全隐患排查整治" (Zibo 2020 §30), "健全校车运行安全隐患排查与整改机制"
///   (003 §14) — a hazard not rectified by its `rectifyBy` raises `safety.hazard_overdue`, yellow,
///   orange 30 days later; `safety.open_hazards` and `safety.overdue_hazards` count them;
/// - drills: "定期组织应急疏散演练" (Zibo 2020 §30) — every school holds a drill each term:
///   `safety.drill_coverage` is the share of schools with one this term, and a term that ends
///   without one at a school raises `safety.drill_missing` until the school holds one.
/// The schools are those the enrolment census names, or a hazard or drill reports.
/// Written against HandlerKit only; its event types are in docs/domains.md.
public struct SafetyPreventionHandler: Handler {
    public init() {}

    static let openHazards = "safety.open_hazards"
    static let overdueHazards = "safety.overdue_hazards"
    static let hazardsFound = "safety.hazards_found"
    static let drillCoverage = "safety.drill_coverage"
    static let hazardRef = "Zibo 2020 §30"
    static let schoolBusRef = "District plans (003) §14"
    static let drillRef = "Zibo 2020 §30"

    static let hazardRule = RuleSpec(
        "safety.hazard_overdue", name: "安全隐患逾期未整改", owner: .school, ackWithin: RuleDuration(1, .workingDays),
        deadlines: ["orange": RuleDuration(30, .days)])
    static let drillRule = RuleSpec(
        "safety.drill_missing", name: "本学期未开展应急疏散演练", owner: .school, ackWithin: RuleDuration(5, .workingDays))

    public var name: String { "SafetyPrevention" }
    public var eventTypes: [String] { [SafetyHazard.type, SafetyDrill.type, EventType.enrolmentCensus] }
    public var payloadValidators: [String: PayloadValidator] {
        [
            SafetyHazard.type: { (r: FieldReader) throws(Rejection) in _ = try SafetyHazard(r) },
            SafetyDrill.type: { (r: FieldReader) throws(Rejection) in _ = try SafetyDrill(r) },
        ]
    }
    public var manifest: HandlerManifest { Self.manifest }

    /// Made once: the indicators' flush reads it at every event.
    static let manifest = HandlerManifest(
        indicators: [
            IndicatorSpec(Self.openHazards, kind: .count, name: "未整改的安全隐患", unit: "处"),
            IndicatorSpec(Self.overdueHazards, kind: .count, name: "逾期未整改的安全隐患", unit: "处"),
            IndicatorSpec(
                Self.hazardsFound, kind: .count, measure: .flow, filters: ["kind": SafetyHazard.Kind.allCases.map(\.rawValue)],
                name: "排查发现的安全隐患", unit: "处"),
            IndicatorSpec(Self.drillCoverage, kind: .ratio, name: "本学期开展应急演练的学校占比"),
        ],
        rules: [Self.hazardRule, Self.drillRule])
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        /// Schools known: school → district.
        var schools = SubjectMap<RegionCode>()
        /// Schools that held a drill in ``term``.
        var drilled: Set<String> = []
        var drills: Set<String> = []
        var term: SchoolTerm?
        var hazards = SubjectMap<Hazard>()
        var deadlines = DeadlineQueue()
        var alerts = AlertBook()
        var indicators = IndicatorBook()
        public init() {}
    }

    struct Hazard: Codable, Sendable, Equatable {
        var schoolId: String
        var region: RegionCode
        var kind: SafetyHazard.Kind
        var rectifyBy: LocalDate
        var open: Bool
        var overdue = false
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        endTerm(&state, context: context, out: &out)
        switch event.payload {
        case .enrolmentCensus(let census):
            know(census.schoolId, region: event.region, state: &state, cause: event.id)
        case .other(let object) where event.type == SafetyHazard.type:
            apply(try SafetyHazard(FieldReader(object, path: "payload")), event: event, state: &state, context: context, out: &out)
        case .other(let object):
            apply(try SafetyDrill(FieldReader(object, path: "payload")), event: event, state: &state, context: context, out: &out)
        default: break
        }
        out += expire(&state, context: context)
        out += state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest).updates
        return out
    }

    public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        endTerm(&state, context: context, out: &out)
        out += state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest, tick: true).updates
        return out
    }

    public func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation? {
        state.indicators.explain(indicator, region: region)
    }

    private func know(_ school: String, region: RegionCode, state: inout State, cause: String) {
        guard state.schools[school] == nil else { return }
        state.schools[school] = region
        state.indicators.add(Self.drillCoverage, kind: .ratio, district: region, denominator: 1, subject: school, cause: cause)
    }

    // MARK: Hazards

    private func apply(_ h: SafetyHazard, event: Event, state: inout State, context: HandlerContext, out: inout [HandlerOutput]) {
        know(h.schoolId, region: event.region, state: &state, cause: event.id)
        let known = state.hazards[h.hazardId]
        if known == nil {
            // Zero overdue is a value too: a plan judges it ("atMost: 0").
            state.indicators.add(Self.overdueHazards, kind: .count, district: event.region)
            state.indicators.record(
                Self.hazardsFound, district: event.region, amount: 1, on: h.found, facets: ["kind": h.kind.rawValue], plans: context.plans,
                subject: h.hazardId, cause: event.id)
        }
        var hazard = known ?? Hazard(schoolId: h.schoolId, region: event.region, kind: h.kind, rectifyBy: h.rectifyBy, open: false)
        let open = h.status != .rectified
        if open && !hazard.open {
            state.indicators.add(Self.openHazards, kind: .count, district: hazard.region, numerator: 1, subject: h.hazardId, cause: event.id)
        }
        if open && (!hazard.open || hazard.rectifyBy != h.rectifyBy) {
            state.deadlines.schedule(DeadlineQueue.key("due", h.rectifyBy, h.hazardId), at: h.rectifyBy.adding(days: 1).startInChina)
        }
        if hazard.overdue && (!open || h.rectifyBy != hazard.rectifyBy) {
            // Rectified, or given a new date (an extension): no longer overdue until that passes.
            hazard.overdue = false
            state.indicators.add(Self.overdueHazards, kind: .count, district: hazard.region, numerator: -1, subject: h.hazardId, cause: event.id)
            let on = h.rectifiedOn ?? event.occurredAt.inChinaTime.localDate
            let summary = open ? "\(h.schoolId) \(h.kind.chinese)隐患(\(h.hazardId))整改期限延至\(h.rectifyBy)" : "\(h.schoolId) \(h.kind.chinese)隐患(\(h.hazardId))已于\(on)整改完毕"
            if let o = state.alerts.resolve(fingerprint: "\(Self.hazardRule.id)/\(h.hazardId)", at: event.occurredAt, causes: [event.id], summary: summary) {
                out.append(o)
            }
        }
        if !open && hazard.open {
            state.indicators.add(Self.openHazards, kind: .count, district: hazard.region, numerator: -1, subject: h.hazardId, cause: event.id)
        }
        hazard.kind = h.kind
        hazard.rectifyBy = h.rectifyBy
        hazard.open = open
        state.hazards[h.hazardId] = hazard
    }

    private func expire(_ state: inout State, context: HandlerContext) -> [HandlerOutput] {
        var out: [HandlerOutput] = []
        for entry in state.deadlines.popDue(now: context.now) {
            guard let parts = entry.parts, var hazard = state.hazards[parts.subject], hazard.open, hazard.rectifyBy.description == parts.version else { continue }
            let id = parts.subject
            let due = Timestamp(epochMilliseconds: entry.due)
            let orange = parts.stage == "orange"
            if !orange {
                state.deadlines.schedule(DeadlineQueue.key("orange", hazard.rectifyBy, id), at: context.due(Self.hazardRule, "orange", from: due))
                if !hazard.overdue {
                    hazard.overdue = true
                    state.hazards[id] = hazard
                    state.indicators.add(Self.overdueHazards, kind: .count, district: hazard.region, numerator: 1, subject: id)
                }
            }
            let late = orange ? "逾期超过\(context.duration(Self.hazardRule, "orange").chinese)" : "已过整改期限(\(hazard.rectifyBy))"
            let firing = AlertBook.Firing(
                rule: Self.hazardRule.id, subjectKey: id, region: hazard.region,
                subject: ["hazardId": id, "schoolId": hazard.schoolId, "kind": hazard.kind.rawValue], level: orange ? .orange : .yellow,
                summary: "\(hazard.schoolId) \(hazard.kind.chinese)隐患(\(id))\(late)仍未整改",
                planRef: hazard.kind == .schoolBus ? Self.schoolBusRef : Self.hazardRef, at: due, causes: [])
            if let o = state.alerts.fire(firing) { out.append(o) }
        }
        return out
    }

    // MARK: Drills

    private func apply(_ d: SafetyDrill, event: Event, state: inout State, context: HandlerContext, out: inout [HandlerOutput]) {
        know(d.schoolId, region: event.region, state: &state, cause: event.id)
        guard state.drills.insert(d.drillId).inserted else { return }
        let term = SchoolTerm(containing: d.date)
        if term == state.term, state.drilled.insert(d.schoolId).inserted {
            state.indicators.add(
                Self.drillCoverage, kind: .ratio, district: state.schools[d.schoolId] ?? event.region, numerator: 1, subject: d.schoolId,
                cause: event.id)
        }
        // A drill held after a term without one puts the school right.
        if term >= (state.term ?? term),
            let o = state.alerts.resolve(
                fingerprint: "\(Self.drillRule.id)/\(d.schoolId)", at: event.occurredAt, causes: [event.id],
                summary: "\(d.schoolId) 已于\(d.date)开展\(d.kind.chinese)演练")
        {
            out.append(o)
        }
    }

    /// When a term ends, every known school that held no drill in it raises
    /// `safety.drill_missing`, and the coverage starts again for the new term.
    private func endTerm(_ state: inout State, context: HandlerContext, out: inout [HandlerOutput]) {
        let now = SchoolTerm(containing: context.now.inChinaTime.localDate)
        guard let term = state.term else {
            state.term = now
            return
        }
        guard now > term else { return }
        let at = term.end.startInChina
        for (school, region) in state.schools.sorted(by: { $0.key < $1.key }) {
            if state.drilled.contains(school) {
                state.indicators.add(Self.drillCoverage, kind: .ratio, district: region, numerator: -1, subject: school)
                continue
            }
            let firing = AlertBook.Firing(
                rule: Self.drillRule.id, subjectKey: school, region: region, subject: ["schoolId": school, "term": term.description],
                level: .yellow, summary: "\(school) \(term.chinese)未开展应急疏散演练", planRef: Self.drillRef, at: at, causes: [])
            if let o = state.alerts.fire(firing) { out.append(o) }
        }
        state.drilled = []
        state.term = now
    }
}

extension SafetyHazard.Kind {
    /// In Chinese, for summaries.
    var chinese: String {
        switch self {
        case .building: "校舍"
        case .fire: "消防"
        case .food: "食品"
        case .schoolBus: "校车"
        case .surroundings: "校园周边"
        case .other: "其他"
        }
    }
}

extension SafetyDrill.Kind {
    /// In Chinese, for summaries.
    var chinese: String {
        switch self {
        case .evacuation: "应急疏散"
        case .fire: "消防"
        case .earthquake: "防震"
        case .other: "安全"
        }
    }
}
