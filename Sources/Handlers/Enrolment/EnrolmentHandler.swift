import HandlerKit

/// Enrolment (学籍): class sizes against the 55/65 limits (大班额/超大班额), drop-out cases
/// (控辍保学) with their 30- and 90-day escalation, and the enrolment shares of the plans:
/// public and inclusive preschool shares, the vocational share of upper secondary.
public struct EnrolmentHandler: Handler {
    public init() {}

    static let oversizedClass = RuleSpec(
        "enrolment.oversized_class", name: "大班额", owner: .school, ackWithin: RuleDuration(5, .workingDays))
    static let dropoutOpen = RuleSpec(
        "enrolment.dropout_open", name: "义务教育学生辍学未复学(控辍保学)", owner: .school, ackWithin: RuleDuration(3, .workingDays),
        deadlines: ["yellow": RuleDuration(30, .days), "orange": RuleDuration(90, .days)])
    static let shareBelowTarget = RuleSpec(
        "enrolment.share_below_target", name: "学位结构占比落后于计划", owner: .district, ackWithin: RuleDuration(5, .workingDays))

    public var manifest: HandlerManifest { Self.manifest }

    /// Made once: the indicators' flush reads it at every event.
    static let manifest = HandlerManifest(
        indicators: [
            IndicatorSpec("preschool.public_share", kind: .ratio, name: "公办园在园幼儿占比"),
            IndicatorSpec("preschool.inclusive_share", kind: .ratio, name: "普惠性幼儿园覆盖率"),
            IndicatorSpec("secondary.vocational_share", kind: .ratio, name: "中职在校生占高中阶段比例"),
            IndicatorSpec("compulsory.oversized_classes", kind: .count, name: "义务教育大班额(56人以上)", unit: "个"),
            IndicatorSpec("compulsory.super_oversized_classes", kind: .count, name: "义务教育超大班额(66人以上)", unit: "个"),
            IndicatorSpec("senior.oversized_classes", kind: .count, name: "普通高中大班额(56人以上)", unit: "个"),
            IndicatorSpec("compulsory.open_dropout_cases", kind: .count, name: "义务教育未复学辍学学生", unit: "人"),
        ],
        rules: [Self.oversizedClass, Self.dropoutOpen, Self.shareBelowTarget])

    public var name: String { "Enrolment" }
    public var eventTypes: [String] { [EventType.enrolmentCensus, EventType.enrolmentChange] }
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        // Per subject, so that a checkpoint writes only the classes, schools, cases and
        // timelines that changed since the last one (a city tracks a million classes).
        var classes = SubjectMap<ClassInfo>()
        var schools = SubjectMap<SchoolInfo>()
        var cases = SubjectMap<DropoutCase>()
        var deadlines = DeadlineQueue()
        var alerts = AlertBook()
        var indicators = IndicatorBook()
        var timelines = SubjectMap<Timeline>()
        public init() {}

        enum CodingKeys: String, CodingKey { case classes, schools, cases, deadlines, alerts, indicators, timelines }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            classes = try c.decode(SubjectMap<ClassInfo>.self, forKey: .classes)
            schools = try c.decode(SubjectMap<SchoolInfo>.self, forKey: .schools)
            cases = try c.decode(SubjectMap<DropoutCase>.self, forKey: .cases)
            deadlines = try c.decode(DeadlineQueue.self, forKey: .deadlines)
            alerts = try c.decode(AlertBook.self, forKey: .alerts)
            indicators = try c.decode(IndicatorBook.self, forKey: .indicators)
            // Absent from checkpoints written before late events were placed by event time.
            timelines = try c.decodeIfPresent(SubjectMap<Timeline>.self, forKey: .timelines) ?? SubjectMap()
        }
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
        /// What was recorded since that did not close it (a withdrawal, a transfer to nowhere).
        var note: String?
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
        flush(&state, context: context, tick: false, out: &out)
        return out
    }

    public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        flush(&state, context: context, tick: true, out: &out)
        return out
    }

    public func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation? {
        state.indicators.explain(indicator, region: region)
    }

    // MARK: Census and changes

    /// Why counts move: the event (its id for `changedBy`, its time for alerts) and whether
    /// it arrived after later events of the same school (a revision).
    struct Cause {
        var id: String
        var at: Timestamp
        var late: Bool
    }

    /// Event time per school and level, so that events arriving late land in the right place:
    /// a census counts what happened before it; a change older than the school's census is in
    /// it already; a census older than changes already applied is applied with them re-applied.
    struct Timeline: Codable, Sendable, Equatable {
        /// When the census in force was taken (ms); nil before the first.
        var censusAt: Int64?
        /// The latest event time applied (ms).
        var lastAt: Int64 = .min
        /// Changes applied since the census in force (of the last ``Timeline/kept`` of event
        /// time), to re-apply over a census that comes late.
        var changes: [Logged] = []

        /// How far back the log reaches: a census more than a year late re-applies nothing older.
        static let kept: Int64 = 366 * 86_400_000

        /// Logs a change and lets go of those older than ``kept`` (the log is in arrival order,
        /// nearly event order: the old ones are a prefix).
        mutating func log(_ change: Logged) {
            changes.append(change)
            lastAt = max(lastAt, change.at)
            let cutoff = lastAt - Self.kept
            if let first = changes.first, first.at < cutoff {
                changes.removeFirst(changes.prefix(while: { $0.at < cutoff }).count)
            }
        }
    }

    struct Logged: Codable, Sendable, Equatable {
        var at: Int64
        var id: String
        var classId: String?
        var delta: Int64
    }

    private func applyCensus(_ census: EnrolmentCensus, event: Event, state: inout State, out: inout [HandlerOutput]) {
        let schoolKey = "\(census.schoolId)|\(census.level.rawValue)"
        var timeline = state.timelines[schoolKey] ?? Timeline()
        let at = event.occurredAt.epochMilliseconds
        // An older census than the one in force changes nothing: the newer one counted more.
        if let current = timeline.censusAt, at < current { return }
        let cause = Cause(id: event.id, at: event.occurredAt, late: at < timeline.lastAt)
        let old = state.schools[schoolKey]
        var school = SchoolInfo(region: event.region, level: census.level, ownership: census.ownership)
        // The census replaces every class of the school and level.
        let newIds = Set(census.classes.map(\.classId))
        for classId in old?.classIds ?? [] where !newIds.contains(classId) {
            let key = "\(census.schoolId)|\(classId)"
            if var info = state.classes.removeValue(forKey: key) {
                setSize(&info, to: 0, cause: cause, state: &state, out: &out)
            }
        }
        for c in census.classes {
            let key = "\(census.schoolId)|\(c.classId)"
            var info = state.classes[key]
                ?? ClassInfo(schoolId: census.schoolId, classId: c.classId, region: event.region, level: census.level, size: 0)
            setSize(&info, to: c.size, cause: cause, state: &state, out: &out)
            state.classes[key] = info
            school.total = SafeInteger.add(school.total, c.size)
        }
        school.classIds = census.classes.map(\.classId)
        moveShares(from: old, to: school, schoolId: census.schoolId, cause: cause, state: &state)
        state.schools[schoolKey] = school
        // Changes that happened after this census (they arrived before it) still count.
        timeline.changes.removeAll { $0.at <= at }
        timeline.censusAt = at
        timeline.lastAt = max(timeline.lastAt, at)
        state.timelines[schoolKey] = timeline
        for logged in timeline.changes {
            move(
                schoolKey, schoolId: census.schoolId, classId: logged.classId, delta: logged.delta, region: event.region,
                level: census.level, ownership: census.ownership, cause: Cause(id: logged.id, at: event.occurredAt, late: true),
                state: &state, out: &out)
        }
    }

    private func applyChange(
        _ change: EnrolmentChange, event: Event, state: inout State, out: inout [HandlerOutput], context: HandlerContext
    ) {
        let schoolKey = "\(change.schoolId)|\(change.level.rawValue)"
        let timeline = state.timelines[schoolKey]
        let at = event.occurredAt.epochMilliseconds
        // A change from before the census in force is in its counts already; its case still
        // matters. (One at the census's own time that arrives after it is counted.)
        if timeline?.censusAt.map({ at >= $0 }) ?? true {
            let lastAt = timeline?.lastAt ?? .min
            let delta = change.change.sign * change.count
            move(
                schoolKey, schoolId: change.schoolId, classId: change.classId, delta: delta, region: event.region, level: change.level,
                ownership: change.ownership, cause: Cause(id: event.id, at: event.occurredAt, late: at < lastAt),
                state: &state, out: &out)
            // In place: the log is not copied on every change.
            state.timelines[schoolKey, default: Timeline()].log(Logged(at: at, id: event.id, classId: change.classId, delta: delta))
        }

        guard let student = change.studentRef else { return }
        switch change.change {
        case .droppedOut:
            // 控辍保学 (004 §9, 000 §21) is compulsory education's: primary and junior pupils.
            guard change.level == .primary || change.level == .junior else { return }
            openCase(student, change: change, event: event, state: &state, out: &out, context: context)
        case .returned:
            closeCase(student, event: event, state: &state, out: &out, how: "已复学")
        case .transferredOut, .withdrawn:
            // Only a lawful exit closes a case: a transfer to a named school, death, or a
            // deferment for health (因身体原因缓学). Withdrawal alone (退学) is not lawful in
            // compulsory education: the case stays open, and its alert says what was recorded.
            if let lawful = Self.lawfulExit(change) {
                closeCase(student, event: event, state: &state, out: &out, how: lawful)
            } else if var c = state.cases[student] {
                c.note = change.change == .withdrawn ? "已办理退学, 但退学不是义务教育阶段的合法退出, 个案仍须跟进" : "转出未登记接收学校, 个案仍须跟进"
                state.cases[student] = c
                let level = state.alerts.firing["\(Self.dropoutOpen.id)/\(student)"]?.level ?? .blue
                if let o = state.alerts.fire(caseFiring(c, level: level, open: nil, at: event.occurredAt, causes: [event.id])) {
                    out.append(o)
                }
            }
        default: break
        }
    }

    /// How a change closes a drop-out case lawfully, in Chinese; nil if it does not.
    static func lawfulExit(_ change: EnrolmentChange) -> String? {
        switch (change.change, change.reason) {
        case (_, "deceased"?): return "已死亡注销学籍"
        case (_, "medicalDeferment"?): return "因身体原因办理缓学"
        case (.transferredOut, _) where change.toSchoolId != nil: return "已转入\(change.toSchoolId!)"
        default: return nil
        }
    }

    /// Drop-out reasons as the 控辍保学 register names them.
    static let reasons: [String: String] = [
        "poverty": "因贫", "studyDifficulty": "厌学/学习困难", "illness": "因病", "family": "家庭原因", "work": "外出务工",
        "marriage": "早婚", "distance": "上学路远", "disability": "残疾", "other": "其他",
    ]

    static func chineseReason(_ reason: String) -> String { reasons[reason] ?? reason }

    /// Moves a school's total (and a class's size) by `delta` pupils.
    private func move(
        _ schoolKey: String, schoolId: String, classId: String?, delta signed: Int64, region: RegionCode, level: SchoolLevel,
        ownership: Ownership, cause: Cause, state: inout State, out: inout [HandlerOutput]
    ) {
        let old = state.schools[schoolKey]
        var school = old ?? SchoolInfo(region: region, level: level, ownership: ownership)
        school.ownership = ownership
        school.total = SafeInteger.add(school.total, max(signed, -school.total))
        if let classId {
            let key = "\(schoolId)|\(classId)"
            var info = state.classes[key] ?? ClassInfo(schoolId: schoolId, classId: classId, region: region, level: level, size: 0)
            if state.classes[key] == nil { school.classIds.append(classId) }
            setSize(&info, to: max(0, SafeInteger.add(info.size, signed)), cause: cause, state: &state, out: &out)
            state.classes[key] = info
        }
        moveShares(from: old, to: school, schoolId: schoolId, cause: cause, state: &state)
        state.schools[schoolKey] = school
    }

    /// Moves the share indicators from a school's old contribution to its new one, by the
    /// difference, so that the school's share of each value keeps its history of events.
    private func moveShares(from old: SchoolInfo?, to new: SchoolInfo, schoolId: String, cause: Cause, state: inout State) {
        var delta: [String: (numerator: Int64, denominator: Int64, region: RegionCode)] = [:]
        for (school, sign) in [(old, Int64(-1)), (Optional(new), Int64(1))] {
            guard let school else { continue }
            for (indicator, numerator, denominator) in shares(of: school) {
                var d = delta[indicator] ?? (0, 0, school.region)
                if school.region != d.region {
                    // A school that moved district: take it out of the old one separately.
                    state.indicators.add(
                        indicator, kind: .ratio, district: school.region, numerator: SafeInteger.multiply(sign, numerator),
                        denominator: SafeInteger.multiply(sign, denominator),
                        subject: schoolId, cause: cause.id, late: cause.late)
                    continue
                }
                d.numerator = SafeInteger.add(d.numerator, SafeInteger.multiply(sign, numerator))
                d.denominator = SafeInteger.add(d.denominator, SafeInteger.multiply(sign, denominator))
                delta[indicator] = d
            }
        }
        for (indicator, d) in delta.sorted(by: { $0.key < $1.key }) where d.numerator != 0 || d.denominator != 0 {
            state.indicators.add(
                indicator, kind: .ratio, district: d.region, numerator: d.numerator, denominator: d.denominator, subject: schoolId,
                cause: cause.id, late: cause.late)
        }
    }

    /// A school's pupils in each share it counts in: (indicator, numerator, denominator).
    private func shares(of s: SchoolInfo) -> [(String, Int64, Int64)] {
        let n = s.total
        switch s.level {
        case .preschool:
            return [("preschool.public_share", s.ownership == .public ? n : 0, n), ("preschool.inclusive_share", s.ownership == .private ? 0 : n, n)]
        case .vocational: return [("secondary.vocational_share", n, n)]
        case .senior: return [("secondary.vocational_share", 0, n)]
        default: return []
        }
    }

    // MARK: Class sizes

    private enum SizeBand: Int { case normal = 0, oversized = 1, superOversized = 2 }

    private func band(_ size: Int64) -> SizeBand {
        size > Self.superOversizedLimit ? .superOversized : size > Self.oversizedLimit ? .oversized : .normal
    }

    private func setSize(_ info: inout ClassInfo, to size: Int64, cause: Cause, state: inout State, out: inout [HandlerOutput]) {
        let before = band(info.size)
        let after = band(size)
        info.size = size
        guard [.primary, .junior, .senior].contains(info.level) else { return }
        if before != after {
            let wasOver: Int64 = before == .normal ? 0 : 1
            let isOver: Int64 = after == .normal ? 0 : 1
            let subject = "\(info.schoolId)/\(info.classId)"
            func add(_ indicator: String, _ delta: Int64) {
                state.indicators.add(
                    indicator, kind: .count, district: info.region, numerator: delta, subject: subject, cause: cause.id, late: cause.late)
            }
            if info.level == .senior {
                add("senior.oversized_classes", isOver - wasOver)
            } else {
                add("compulsory.oversized_classes", isOver - wasOver)
                let wasSuper: Int64 = before == .superOversized ? 1 : 0
                let isSuper: Int64 = after == .superOversized ? 1 : 0
                add("compulsory.super_oversized_classes", isSuper - wasSuper)
            }
        }
        let subjectKey = "\(info.schoolId)/\(info.classId)"
        let fingerprint = "\(Self.oversizedClass.id)/\(subjectKey)"
        let planRef = info.level == .senior ? "City 2023 §10" : "Zibo 2020 §8"
        if after == .normal {
            if let o = state.alerts.resolve(
                fingerprint: fingerprint, at: cause.at, causes: [cause.id],
                summary: "\(info.schoolId) \(info.classId)班 班额降至\(size)人, 不再超过55人")
            {
                out.append(o)
            }
            return
        }
        let label = after == .superOversized ? "超过65人(超大班额)" : "超过55人(大班额)"
        if let o = state.alerts.fire(
            AlertBook.Firing(
                rule: Self.oversizedClass.id, subjectKey: subjectKey, region: info.region,
                subject: ["schoolId": info.schoolId, "classId": info.classId],
                level: after == .superOversized ? .orange : .yellow,
                summary: "\(info.schoolId) \(info.classId)班 班额\(size)人, \(label)", planRef: planRef, at: cause.at,
                causes: [cause.id]))
        {
            out.append(o)
        }
    }

    // MARK: Drop-out cases

    private static let day: Int64 = 86_400

    /// Yellow after 30 days open, orange after 90 (DOMAIN.md); configurable per deployment as
    /// `rules.enrolment.dropout_open.deadlines.yellow` / `.orange`, in days or working days.
    static func escalation(_ level: Alert.Level, _ context: HandlerContext) -> RuleDuration {
        context.duration(dropoutOpen, level == .orange ? "orange" : "yellow")
    }

    private func openCase(
        _ student: String, change: EnrolmentChange, event: Event, state: inout State, out: inout [HandlerOutput], context: HandlerContext
    ) {
        guard state.cases[student] == nil else { return }
        let c = DropoutCase(
            studentRef: student, schoolId: change.schoolId, region: event.region, level: change.level,
            openedAt: event.occurredAt, reason: change.reason)
        state.cases[student] = c
        state.indicators.add(
            "compulsory.open_dropout_cases", kind: .count, district: c.region, numerator: 1, subject: "\(c.schoolId)/\(student)",
            cause: event.id)
        let opened = c.openedAt.epochMilliseconds
        for level in [Alert.Level.yellow, .orange] {
            state.deadlines.schedule(
                "\(level.rawValue)|\(opened)|\(student)", at: context.calendar.end(of: Self.escalation(level, context), from: c.openedAt))
        }
        if let o = state.alerts.fire(caseFiring(c, level: .blue, open: nil, at: event.occurredAt, causes: [event.id])) { out.append(o) }
    }

    private func closeCase(_ student: String, event: Event, state: inout State, out: inout [HandlerOutput], how: String) {
        guard let c = state.cases.removeValue(forKey: student) else { return }
        state.indicators.add(
            "compulsory.open_dropout_cases", kind: .count, district: c.region, numerator: -1, subject: "\(c.schoolId)/\(student)",
            cause: event.id)
        if let o = state.alerts.resolve(
            fingerprint: "\(Self.dropoutOpen.id)/\(student)", at: event.occurredAt, causes: [event.id],
            summary: "\(c.schoolId) 学生\(student)\(how), 辍学个案关闭")
        {
            out.append(o)
        }
    }

    private func caseFiring(_ c: DropoutCase, level: Alert.Level, open: RuleDuration?, at: Timestamp, causes: [String]) -> AlertBook.Firing {
        let reason = c.reason.map { ", 辍学原因: \(Self.chineseReason($0))" } ?? ""
        let note = c.note.map { "; \($0)" } ?? ""
        let summary =
            open.map { "\(c.schoolId) 学生\(c.studentRef)辍学已\($0.chinese)未复学\(reason)\(note)" }
            ?? "\(c.schoolId) 学生\(c.studentRef)辍学\(reason), 需落实控辍保学\(note)"
        return AlertBook.Firing(
            rule: Self.dropoutOpen.id, subjectKey: c.studentRef, region: c.region,
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
            let fingerprint = "\(Self.dropoutOpen.id)/\(c.studentRef)"
            if let current = state.alerts.firing[fingerprint]?.level, current >= level { continue }
            let due = Timestamp(epochMilliseconds: entry.due)
            if let o = state.alerts.fire(caseFiring(c, level: level, open: Self.escalation(level, context), at: due, causes: [])) {
                out.append(o)
            }
        }
        return out
    }

    // MARK: Indicators and their targets

    /// Publishes and judges; a share behind its plan raises `enrolment.share_below_target`
    /// (yellow; orange when offTrack, which after the deadline is final).
    private func flush(_ state: inout State, context: HandlerContext, tick: Bool, out: inout [HandlerOutput]) {
        let (updates, changes) = state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest, tick: tick)
        out += updates
        for change in changes {
            guard let target = change.target, let spec = manifest.indicator(target.indicator), spec.kind == .ratio else { continue }
            let u = change.update
            // Per plan: a yearly plan and a three-year plan may judge the same share at once.
            let subjectKey = "\(u.plan ?? "-")/\(change.indicator)/\(change.region.code)"
            let fingerprint = "\(Self.shareBelowTarget.id)/\(subjectKey)"
            let value = Format.percent(u.value)
            let bound = target.target.comparison == .atMost ? "≤" : "≥"
            let goal = "目标\(bound)\(Format.wholePercent(target.target.value)), \(target.deadline)前"
            switch change.to {
            case .atRisk?, .offTrack?:
                let level: Alert.Level = change.to == .offTrack ? .orange : .yellow
                let how = u.final ? "截止时未达到目标" : change.to == .offTrack ? "严重落后于计划进度" : "落后于计划进度"
                if let o = state.alerts.fire(
                    AlertBook.Firing(
                        rule: Self.shareBelowTarget.id, subjectKey: subjectKey, region: change.region,
                        subject: ["plan": u.plan ?? "", "indicator": change.indicator, "region": change.region.code], level: level,
                        summary: "\(change.region.code) \(spec.name)\(value)(\(u.numerator ?? 0)/\(u.denominator ?? 0)), \(goal), \(how)",
                        planRef: target.planRef, at: context.now, causes: []))
                {
                    out.append(o)
                }
            default:
                let how = change.to == .met ? "已达到目标" : change.to == nil ? "不再受计划考核" : "已回到计划进度"
                if let o = state.alerts.resolve(
                    fingerprint: fingerprint, at: context.now, causes: [], summary: "\(change.region.code) \(spec.name)\(value), \(how)")
                {
                    out.append(o)
                }
            }
        }
    }
}
