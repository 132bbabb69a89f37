import HandlerKit

/// Digital infrastructure (教育信息化), as seed 003 states it: "达到每间教室都接入带宽30M以上的
/// 网络、都装备教学交互一体机, 各中小学校教师信息化终端达到1:1" (003 §43).
/// - `infra.bandwidth_30m_share`: classrooms connected at 30 Mbit/s or more over all classrooms;
/// - `infra.teacher_terminal_ratio`: teachers' terminals over teachers (1:1 is 1.0);
/// both per district and city by numerator and denominator, from each school's latest report.
/// A school below either raises `infra.bandwidth_below` or `infra.terminals_short` (blue;
/// orange when still below 90 days later) until a report shows it at the standard.
/// Written against HandlerKit only, and shipped as a dynamic plugin
/// (`libDigitalInfrastructurePlugin.so`); its event type `infra.classroom` is in docs/domains.md.
public struct DigitalInfrastructureHandler: Handler {
    public init() {}

    public static let minimumMbps: Int64 = 30
    static let bandwidth = "infra.bandwidth_30m_share"
    static let terminals = "infra.teacher_terminal_ratio"
    static let planRef = "District plans (003) §43"

    static let bandwidthRule = RuleSpec(
        "infra.bandwidth_below", name: "教室接入带宽低于30M", owner: .district, ackWithin: RuleDuration(10, .workingDays),
        deadlines: ["orange": RuleDuration(90, .days)])
    static let terminalsRule = RuleSpec(
        "infra.terminals_short", name: "教师信息化终端未达1:1", owner: .district, ackWithin: RuleDuration(10, .workingDays),
        deadlines: ["orange": RuleDuration(90, .days)])

    public var name: String { "DigitalInfrastructure" }
    public var eventTypes: [String] { [ClassroomInfrastructure.type] }
    public var payloadValidators: [String: PayloadValidator] {
        [ClassroomInfrastructure.type: { (r: FieldReader) throws(Rejection) in _ = try ClassroomInfrastructure(r) }]
    }
    public var manifest: HandlerManifest { Self.manifest }

    /// Made once: the indicators' flush reads it at every event.
    static let manifest = HandlerManifest(
        indicators: [
            IndicatorSpec(Self.bandwidth, kind: .ratio, name: "接入带宽30M以上的教室占比"),
            IndicatorSpec(Self.terminals, kind: .ratio, name: "教师信息化终端配备比"),
        ],
        rules: [Self.bandwidthRule, Self.terminalsRule])
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        var schools = SubjectMap<School>()
        var deadlines = DeadlineQueue()
        var alerts = AlertBook()
        var indicators = IndicatorBook()
        public init() {}
    }

    struct School: Codable, Sendable, Equatable {
        var region: RegionCode
        var report: ClassroomInfrastructure
        /// Since when it is below each standard (nil: at it).
        var slowSince: LocalDate?
        var shortSince: LocalDate?
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        guard case .other(let object) = event.payload else { return out }
        let r = try ClassroomInfrastructure(FieldReader(object, path: "payload"))
        let today = event.occurredAt.inChinaTime.localDate
        let before = state.schools[r.schoolId]
        if let before { count(before.report, -1, region: before.region, cause: event.id, state: &state) }
        count(r, 1, region: event.region, cause: event.id, state: &state)
        var school = School(region: event.region, report: r, slowSince: before?.slowSince, shortSince: before?.shortSince)
        let slow = r.classrooms > 0 && r.bandwidthMbps < Self.minimumMbps
        let short = r.teacherTerminals < r.teachers
        for (rule, below, since) in [(Self.bandwidthRule, slow, school.slowSince), (Self.terminalsRule, short, school.shortSince)] {
            let key = rule.id == Self.bandwidthRule.id ? "slow" : "short"
            if below {
                let start = since ?? today
                if since == nil { state.deadlines.schedule(DeadlineQueue.key(key, start, r.schoolId), at: context.due(rule, "orange", from: start.startInChina)) }
                if key == "slow" { school.slowSince = start } else { school.shortSince = start }
                if let o = state.alerts.fire(firing(rule, r.schoolId, school, level: orange(rule, start, context) ? .orange : .blue, at: event.occurredAt, cause: event.id)) {
                    out.append(o)
                }
            } else {
                if key == "slow" { school.slowSince = nil } else { school.shortSince = nil }
                let summary = key == "slow" ? "\(r.schoolId) 教室接入带宽已达\(r.bandwidthMbps)M" : "\(r.schoolId) 教师信息化终端已达\(r.teacherTerminals)台/\(r.teachers)人"
                if let o = state.alerts.resolve(fingerprint: "\(rule.id)/\(r.schoolId)", at: event.occurredAt, causes: [event.id], summary: summary) {
                    out.append(o)
                }
            }
        }
        state.schools[r.schoolId] = school
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

    private func count(_ r: ClassroomInfrastructure, _ sign: Int64, region: RegionCode, cause: String, state: inout State) {
        let fast = r.bandwidthMbps >= Self.minimumMbps ? r.classrooms : 0
        state.indicators.add(
            Self.bandwidth, kind: .ratio, district: region, numerator: SafeInteger.multiply(sign, fast),
            denominator: SafeInteger.multiply(sign, r.classrooms), subject: r.schoolId, cause: cause)
        state.indicators.add(
            Self.terminals, kind: .ratio, district: region, numerator: SafeInteger.multiply(sign, r.teacherTerminals),
            denominator: SafeInteger.multiply(sign, r.teachers), subject: r.schoolId, cause: cause)
    }

    private func orange(_ rule: RuleSpec, _ since: LocalDate, _ context: HandlerContext) -> Bool {
        context.due(rule, "orange", from: since.startInChina) <= context.now
    }

    private func firing(_ rule: RuleSpec, _ id: String, _ s: School, level: Alert.Level, at: Timestamp, cause: String?) -> AlertBook.Firing {
        let r = s.report
        let summary =
            rule.id == Self.bandwidthRule.id
            ? "\(id) 教室接入带宽\(r.bandwidthMbps)M, 低于\(Self.minimumMbps)M(\(r.classrooms)间教室)\(level == .orange ? ", 超过90天仍未达标" : "")"
            : "\(id) 教师信息化终端\(r.teacherTerminals)台, 教师\(r.teachers)人, 未达到1:1\(level == .orange ? ", 超过90天仍未达标" : "")"
        return AlertBook.Firing(
            rule: rule.id, subjectKey: id, region: s.region, subject: ["schoolId": id], level: level, summary: summary, planRef: Self.planRef,
            at: at, causes: cause.map { [$0] } ?? [])
    }

    private func expire(_ state: inout State, context: HandlerContext) -> [HandlerOutput] {
        var out: [HandlerOutput] = []
        for entry in state.deadlines.popDue(now: context.now) {
            guard let parts = entry.parts, let school = state.schools[parts.subject] else { continue }
            let slow = parts.stage == "slow"
            guard (slow ? school.slowSince : school.shortSince)?.description == parts.version else { continue }
            let rule = slow ? Self.bandwidthRule : Self.terminalsRule
            if let o = state.alerts.fire(firing(rule, parts.subject, school, level: .orange, at: Timestamp(epochMilliseconds: entry.due), cause: nil)) {
                out.append(o)
            }
        }
        return out
    }
}
