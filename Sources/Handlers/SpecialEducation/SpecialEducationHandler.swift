import HandlerKit

/// Special education (特殊教育), as the seeds state it: "保障义务教育阶段适龄儿童少年应上尽上,
/// …提升随班就读质量" (City 2023 §12); "抓好随班就读工作, 提升为重度残疾儿童送教上门服务质量"
/// (Zibo 2020 §21); "对…需要送教上门的残疾儿童少年进行身体评估, 并根据评估结果提出科学合理入学
/// 安置意见进行安置" (003 §31). `special.placement_rate` is the share of identified children who
/// are placed — a regular class (随班就读), a special school or teaching at home (送教上门) —
/// per district and city by numerator and denominator; a child left unplaced raises
/// `special.unplaced` after 30 days (yellow), orange after 90.
/// Written against HandlerKit only; its event type `special.placement` is in docs/domains.md.
public struct SpecialEducationHandler: Handler {
    public init() {}

    static let rate = "special.placement_rate"
    static let homeDelivered = "special.home_delivered"
    static let planRef = "City 2023 §12"

    static let unplacedRule = RuleSpec(
        "special.unplaced", name: "适龄残疾儿童未安置入学", owner: .district, ackWithin: RuleDuration(5, .workingDays),
        deadlines: ["yellow": RuleDuration(30, .days), "orange": RuleDuration(90, .days)])

    public var name: String { "SpecialEducation" }
    public var eventTypes: [String] { [SpecialPlacement.type] }
    public var payloadValidators: [String: PayloadValidator] {
        [SpecialPlacement.type: { (r: FieldReader) throws(Rejection) in _ = try SpecialPlacement(r) }]
    }
    public var manifest: HandlerManifest { Self.manifest }

    /// Made once: the indicators' flush reads it at every event.
    static let manifest = HandlerManifest(
        indicators: [
            IndicatorSpec(Self.rate, kind: .ratio, name: "适龄残疾儿童少年入学安置率"),
            IndicatorSpec(Self.homeDelivered, kind: .count, name: "送教上门的残疾儿童少年", unit: "人"),
        ],
        rules: [Self.unplacedRule])
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        var children = SubjectMap<Child>()
        var deadlines = DeadlineQueue()
        var alerts = AlertBook()
        var indicators = IndicatorBook()
        public init() {}
    }

    struct Child: Codable, Sendable, Equatable {
        var region: RegionCode
        var placement: SpecialPlacement.Placement
        var disability: SpecialPlacement.Disability
        /// Since when the child is in this placement.
        var since: LocalDate
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        guard case .other(let object) = event.payload else { return out }
        let p = try SpecialPlacement(FieldReader(object, path: "payload"))
        if let before = state.children[p.childRef] { count(before, -1, p.childRef, event.id, &state) }
        let child = Child(region: event.region, placement: p.placement, disability: p.disability, since: p.date)
        if p.placement == .exited {
            state.children[p.childRef] = nil
        } else {
            state.children[p.childRef] = child
            count(child, 1, p.childRef, event.id, &state)
        }
        if p.placement == .notPlaced {
            state.deadlines.schedule(DeadlineQueue.key("yellow", p.date, p.childRef), at: context.due(Self.unplacedRule, "yellow", from: p.date.startInChina))
            state.deadlines.schedule(DeadlineQueue.key("orange", p.date, p.childRef), at: context.due(Self.unplacedRule, "orange", from: p.date.startInChina))
        } else {
            let how = p.placement == .exited ? "已不在册(迁出、超龄等)" : "已于\(p.date)安置: \(p.placement.chinese)"
            if let o = state.alerts.resolve(
                fingerprint: "\(Self.unplacedRule.id)/\(p.childRef)", at: event.occurredAt, causes: [event.id], summary: "残疾儿童\(p.childRef)\(how)")
            {
                out.append(o)
            }
        }
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

    private func count(_ c: Child, _ sign: Int64, _ id: String, _ cause: String, _ state: inout State) {
        let placed = c.placement == .regularClass || c.placement == .specialSchool || c.placement == .homeDelivered
        state.indicators.add(Self.rate, kind: .ratio, district: c.region, numerator: placed ? sign : 0, denominator: sign, subject: id, cause: cause)
        if c.placement == .homeDelivered {
            state.indicators.add(Self.homeDelivered, kind: .count, district: c.region, numerator: sign, subject: id, cause: cause)
        }
    }

    private func expire(_ state: inout State, context: HandlerContext) -> [HandlerOutput] {
        var out: [HandlerOutput] = []
        for entry in state.deadlines.popDue(now: context.now) {
            guard let parts = entry.parts, let child = state.children[parts.subject], child.placement == .notPlaced, child.since.description == parts.version
            else { continue }
            let orange = parts.stage == "orange"
            let limit = context.duration(Self.unplacedRule, orange ? "orange" : "yellow")
            let firing = AlertBook.Firing(
                rule: Self.unplacedRule.id, subjectKey: parts.subject, region: child.region, subject: ["childRef": parts.subject, "region": child.region.code],
                level: orange ? .orange : .yellow,
                summary: "\(child.region.code) \(child.disability.chinese)残疾儿童\(parts.subject)自\(child.since)起超过\(limit.chinese)未安置入学(应上尽上)",
                planRef: Self.planRef, at: Timestamp(epochMilliseconds: entry.due), causes: [])
            if let o = state.alerts.fire(firing) { out.append(o) }
        }
        return out
    }
}

extension SpecialPlacement.Placement {
    /// In Chinese, for summaries.
    var chinese: String {
        switch self {
        case .regularClass: "随班就读"
        case .specialSchool: "特殊教育学校"
        case .homeDelivered: "送教上门"
        case .notPlaced: "未安置"
        case .exited: "不在册"
        }
    }
}

extension SpecialPlacement.Disability {
    /// In Chinese, for summaries.
    var chinese: String {
        switch self {
        case .visual: "视力"
        case .hearing: "听力"
        case .speech: "言语"
        case .physical: "肢体"
        case .intellectual: "智力"
        case .mental: "精神"
        case .multiple: "多重"
        case .other: "其他"
        }
    }
}
