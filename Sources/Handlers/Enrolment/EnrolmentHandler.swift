import HandlerKit

/// Enrolment (学籍): class sizes against the 55/65 limits (大班额/超大班额), drop-out cases
/// (控辍保学) with their 30- and 90-day escalation, and the enrolment shares of the plans:
/// public and inclusive preschool shares, the vocational share of upper secondary.
public struct EnrolmentHandler: Handler {
    public let plans: PlanSet

    public init(plans: PlanSet = PlanSet()) { self.plans = plans }

    public var name: String { "Enrolment" }
    public var eventTypes: [String] { [EventType.enrolmentCensus, EventType.enrolmentChange] }
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        var classes: [String: ClassInfo] = [:]
        var schools: [String: SchoolInfo] = [:]
        var cases: [String: DropoutCase] = [:]
        var deadlines = DeadlineQueue()
        var alerts = AlertBook()
        var indicators = IndicatorBook()
        public init() {}
    }

    struct ClassInfo: Codable, Sendable, Equatable {
        var schoolId: String
        var classId: String
        var region: RegionCode
        var level: SchoolLevel
        var size: Int64
    }

    struct SchoolInfo: Codable, Sendable, Equatable {
        var region: RegionCode
        var level: SchoolLevel
        var ownership: Ownership
        var total: Int64 = 0
        var classIds: [String] = []
    }

    struct DropoutCase: Codable, Sendable, Equatable {
        var studentRef: String
        var schoolId: String
        var region: RegionCode
        var level: SchoolLevel
        var openedAt: Timestamp
        var reason: String?
    }

    static let oversizedLimit: Int64 = 55
    static let superOversizedLimit: Int64 = 65

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        switch event.payload {
        case .enrolmentCensus(let census): applyCensus(census, event: event, state: &state, out: &out)
        case .enrolmentChange(let change): applyChange(change, event: event, state: &state, out: &out, context: context)
        default: break
        }
        flush(&state, now: context.now, tick: false, out: &out)
        return out
    }

    public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        flush(&state, now: context.now, tick: true, out: &out)
        return out
    }

    // MARK: Census and changes

    private func applyCensus(_ census: EnrolmentCensus, event: Event, state: inout State, out: inout [HandlerOutput]) {
        let schoolKey = "\(census.schoolId)|\(census.level.rawValue)"
        let old = state.schools[schoolKey]
        var school = SchoolInfo(region: event.region, level: census.level, ownership: census.ownership)
        // The census replaces every class of the school and level.
        let newIds = Set(census.classes.map(\.classId))
        for classId in old?.classIds ?? [] where !newIds.contains(classId) {
            let key = "\(census.schoolId)|\(classId)"
            if var info = state.classes.removeValue(forKey: key) {
                setSize(&info, to: 0, event: event, state: &state, out: &out)
            }
        }
        for c in census.classes {
            let key = "\(census.schoolId)|\(c.classId)"
            var info = state.classes[key]
                ?? ClassInfo(schoolId: census.schoolId, classId: c.classId, region: event.region, level: census.level, size: 0)
            setSize(&info, to: c.size, event: event, state: &state, out: &out)
            state.classes[key] = info
            school.total += c.size
        }
        school.classIds = census.classes.map(\.classId)
        moveShares(from: old, to: school, state: &state)
        state.schools[schoolKey] = school
    }

    private func applyChange(
        _ change: EnrolmentChange, event: Event, state: inout State, out: inout [HandlerOutput], context: HandlerContext
    ) {
        let schoolKey = "\(change.schoolId)|\(change.level.rawValue)"
        let old = state.schools[schoolKey]
        var school = old ?? SchoolInfo(region: event.region, level: change.level, ownership: change.ownership)
        school.ownership = change.ownership
        let delta = max(change.change.sign * change.count, -school.total)
        school.total += delta
        if let classId = change.classId {
            let key = "\(change.schoolId)|\(classId)"
            var info = state.classes[key]
                ?? ClassInfo(schoolId: change.schoolId, classId: classId, region: event.region, level: change.level, size: 0)
            if state.classes[key] == nil { school.classIds.append(classId) }
            setSize(&info, to: max(0, info.size + change.change.sign * change.count), event: event, state: &state, out: &out)
            state.classes[key] = info
        }
        moveShares(from: old, to: school, state: &state)
        state.schools[schoolKey] = school

        guard let student = change.studentRef else { return }
        switch change.change {
        case .droppedOut:
            openCase(student, change: change, event: event, state: &state, out: &out, context: context)
        case .returned, .withdrawn, .transferredOut:
            // Returning, or a recorded lawful reason (withdrawal, transfer elsewhere), closes the case.
            closeCase(student, event: event, state: &state, out: &out, how: change.change)
        default: break
        }
    }

    /// Moves the share indicators from a school's old contribution to its new one.
    private func moveShares(from old: SchoolInfo?, to new: SchoolInfo, state: inout State) {
        if let old { contribute(old, sign: -1, state: &state) }
        contribute(new, sign: 1, state: &state)
    }

    private func contribute(_ s: SchoolInfo, sign: Int64, state: inout State) {
        let n = s.total * sign
        guard n != 0 else { return }
        switch s.level {
        case .preschool:
            state.indicators.add("preschool.public_share", kind: .ratio, district: s.region, numerator: s.ownership == .public ? n : 0, denominator: n)
            state.indicators.add(
                "preschool.inclusive_share", kind: .ratio, district: s.region,
                numerator: s.ownership == .private ? 0 : n, denominator: n)
        case .vocational:
            state.indicators.add("secondary.vocational_share", kind: .ratio, district: s.region, numerator: n, denominator: n)
        case .senior:
            state.indicators.add("secondary.vocational_share", kind: .ratio, district: s.region, numerator: 0, denominator: n)
        default: break
        }
    }

    // MARK: Class sizes

    private enum SizeBand: Int { case normal = 0, oversized = 1, superOversized = 2 }

    private func band(_ size: Int64) -> SizeBand {
        size > Self.superOversizedLimit ? .superOversized : size > Self.oversizedLimit ? .oversized : .normal
    }

    private func setSize(_ info: inout ClassInfo, to size: Int64, event: Event, state: inout State, out: inout [HandlerOutput]) {
        let before = band(info.size)
        let after = band(size)
        info.size = size
        guard [.primary, .junior, .senior].contains(info.level) else { return }
        if before != after {
            let wasOver: Int64 = before == .normal ? 0 : 1
            let isOver: Int64 = after == .normal ? 0 : 1
            if info.level == .senior {
                state.indicators.add("senior.oversized_classes", kind: .count, district: info.region, numerator: isOver - wasOver)
            } else {
                state.indicators.add("compulsory.oversized_classes", kind: .count, district: info.region, numerator: isOver - wasOver)
                let wasSuper: Int64 = before == .superOversized ? 1 : 0
                let isSuper: Int64 = after == .superOversized ? 1 : 0
                state.indicators.add(
                    "compulsory.super_oversized_classes", kind: .count, district: info.region, numerator: isSuper - wasSuper)
            }
        }
        let subjectKey = "\(info.schoolId)/\(info.classId)"
        let fingerprint = "enrolment.oversized_class/\(subjectKey)"
        let planRef = info.level == .senior ? "City 2023 §10" : "Zibo 2020 §8"
        if after == .normal {
            if let o = state.alerts.resolve(
                fingerprint: fingerprint, at: event.occurredAt, causes: [event.id],
                summary: "\(info.schoolId) \(info.classId)班 班额降至\(size)人, 不再超过55人")
            {
                out.append(o)
            }
            return
        }
        let label = after == .superOversized ? "超过65人(超大班额)" : "超过55人(大班额)"
        if let o = state.alerts.fire(
            AlertBook.Firing(
                rule: "enrolment.oversized_class", subjectKey: subjectKey, region: info.region,
                subject: ["schoolId": info.schoolId, "classId": info.classId],
                level: after == .superOversized ? .orange : .yellow,
                summary: "\(info.schoolId) \(info.classId)班 班额\(size)人, \(label)", planRef: planRef, at: event.occurredAt,
                causes: [event.id]))
        {
            out.append(o)
        }
    }

    // MARK: Drop-out cases

    private static let day: Int64 = 86_400

    /// Yellow after 30 days open, orange after 90 (DOMAIN.md); configurable per deployment as
    /// `rules.enrolment.dropout_open.deadlines.yellow` / `.orange`, in days or working days.
    static func escalation(_ level: Alert.Level, _ context: HandlerContext) -> RuleDuration {
        level == .orange
            ? context.timings.duration("enrolment.dropout_open", "orange", default: RuleDuration(90, .days))
            : context.timings.duration("enrolment.dropout_open", "yellow", default: RuleDuration(30, .days))
    }

    private func openCase(
        _ student: String, change: EnrolmentChange, event: Event, state: inout State, out: inout [HandlerOutput], context: HandlerContext
    ) {
        guard state.cases[student] == nil else { return }
        let c = DropoutCase(
            studentRef: student, schoolId: change.schoolId, region: event.region, level: change.level,
            openedAt: event.occurredAt, reason: change.reason)
        state.cases[student] = c
        if c.level == .primary || c.level == .junior {
            state.indicators.add("compulsory.open_dropout_cases", kind: .count, district: c.region, numerator: 1)
        }
        let opened = c.openedAt.epochMilliseconds
        for level in [Alert.Level.yellow, .orange] {
            state.deadlines.schedule(
                "\(level.rawValue)|\(opened)|\(student)", at: context.calendar.end(of: Self.escalation(level, context), from: c.openedAt))
        }
        if let o = state.alerts.fire(caseFiring(c, level: .blue, open: nil, at: event.occurredAt, causes: [event.id])) { out.append(o) }
    }

    private func closeCase(_ student: String, event: Event, state: inout State, out: inout [HandlerOutput], how: EnrolmentChange.Kind) {
        guard let c = state.cases.removeValue(forKey: student) else { return }
        if c.level == .primary || c.level == .junior {
            state.indicators.add("compulsory.open_dropout_cases", kind: .count, district: c.region, numerator: -1)
        }
        let what = how == .returned ? "已复学" : how == .withdrawn ? "已办理退学手续" : "已转出"
        if let o = state.alerts.resolve(
            fingerprint: "enrolment.dropout_open/\(student)", at: event.occurredAt, causes: [event.id],
            summary: "\(c.schoolId) 学生\(student)\(what), 辍学个案关闭")
        {
            out.append(o)
        }
    }

    private func caseFiring(_ c: DropoutCase, level: Alert.Level, open: RuleDuration?, at: Timestamp, causes: [String]) -> AlertBook.Firing {
        let reason = c.reason.map { ", 原因: \($0)" } ?? ""
        let summary =
            open.map { "\(c.schoolId) 学生\(c.studentRef)辍学已\($0.chinese)未复学\(reason)" }
            ?? "\(c.schoolId) 学生\(c.studentRef)辍学\(reason), 需落实控辍保学"
        return AlertBook.Firing(
            rule: "enrolment.dropout_open", subjectKey: c.studentRef, region: c.region,
            subject: ["schoolId": c.schoolId, "studentRef": c.studentRef], level: level, summary: summary,
            planRef: "Zibo 2020 §9", at: at, causes: causes)
    }

    private func expire(_ state: inout State, context: HandlerContext) -> [HandlerOutput] {
        var out: [HandlerOutput] = []
        for entry in state.deadlines.popDue(now: context.now) {
            let parts = entry.key.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            // Keys of checkpoints written before levels were named: "30|…" and "90|…".
            let named = ["30": "yellow", "90": "orange"][parts[0]] ?? parts[0]
            guard parts.count == 3, let c = state.cases[parts[2]], String(c.openedAt.epochMilliseconds) == parts[1],
                let level = Alert.Level(rawValue: named)
            else { continue }
            // Never step down: with both limits configured, the later one wins.
            let fingerprint = "enrolment.dropout_open/\(c.studentRef)"
            if let current = state.alerts.firing[fingerprint]?.level, current >= level { continue }
            let due = Timestamp(epochMilliseconds: entry.due)
            if let o = state.alerts.fire(caseFiring(c, level: level, open: Self.escalation(level, context), at: due, causes: [])) {
                out.append(o)
            }
        }
        return out
    }

    // MARK: Indicators and their targets

    static let shareNames = [
        "preschool.public_share": "公办园在园幼儿占比",
        "preschool.inclusive_share": "普惠性幼儿园覆盖率",
        "secondary.vocational_share": "职普比中职占比",
    ]

    private func flush(_ state: inout State, now: Timestamp, tick: Bool, out: inout [HandlerOutput]) {
        let (updates, changes) = state.indicators.flush(now: now, plans: plans, tick: tick)
        out += updates
        for change in changes {
            guard let name = Self.shareNames[change.indicator] else { continue }
            let subjectKey = "\(change.indicator)/\(change.region.code)"
            let fingerprint = "enrolment.share_below_target/\(subjectKey)"
            let u = change.update
            let value = Format.percent(u.value)
            let target = u.target.map { "目标≥\(Format.wholePercent($0.value)), \($0.deadline)前" } ?? ""
            switch change.to {
            case .atRisk?, .offTrack?:
                let level: Alert.Level = change.to == .offTrack ? .orange : .yellow
                let how = change.to == .offTrack ? "严重落后于计划进度" : "落后于计划进度"
                if let o = state.alerts.fire(
                    AlertBook.Firing(
                        rule: "enrolment.share_below_target", subjectKey: subjectKey, region: change.region,
                        subject: ["indicator": change.indicator, "region": change.region.code], level: level,
                        summary: "\(change.region.code) \(name)\(value)(\(u.numerator ?? 0)/\(u.denominator ?? 0)), \(target), \(how)",
                        planRef: u.target?.planRef, at: now, causes: []))
                {
                    out.append(o)
                }
            default:
                if let o = state.alerts.resolve(
                    fingerprint: fingerprint, at: now, causes: [],
                    summary: "\(change.region.code) \(name)\(value), 已回到计划进度")
                {
                    out.append(o)
                }
            }
        }
    }
}
