import HandlerKit

/// Teachers (教师队伍), as seed 003's district plans state it:
/// - training: "确保每位教师完成5年不少于360学时培训任务" (§39) — 360 hours in each national
///   five-year cycle (2016–2020, 2021–2025, …), pro rata for a teacher who joined during one;
/// - rotation: "凡男50周岁、女45周岁以下且在同一所学校连续任教9年以上的教师, 50周岁以下且在同一
///   学校连续任职满9年以上的正、副校长, 原则上均应交流" (§7) — 9 years in one school, under
///   the age limits;
/// - research staff: "2024年底前区教研室专职教研员要占本区所辖学段专任教师比例不低于4‰" (§32) —
///   researchers against full-time teachers (专任教师: teachers and principals, not the
///   researchers themselves), judged from the end of 2024.
/// Written against HandlerKit only; its event types `teacher.roster` and `teacher.training`
/// are in docs/domains.md.
public struct TeachersHandler: Handler {
    public init() {}

    public static let rosterType = "teacher.roster"
    public static let trainingType = "teacher.training"
    public static let cycleHours: Int64 = 360
    public static let cycleYears = 5
    public static let rotationYears = 9
    public static let researchShare = 0.004
    /// 003 §32: "2024年底前".
    public static let researchDeadline = LocalDate(year: 2024, month: 12, day: 31)!

    static let trainingRef = "District plans (003) §39"
    static let rotationRef = "District plans (003) §7"
    static let researchRef = "District plans (003) §32"

    static let rotationRule = RuleSpec(
        "teachers.rotation_due", name: "教师校长应交流轮岗", owner: .district, ackWithin: RuleDuration(10, .workingDays))
    static let trainingRule = RuleSpec(
        "teachers.training_shortfall", name: "教师五年培训不足360学时", owner: .school, ackWithin: RuleDuration(10, .workingDays))
    static let researchRule = RuleSpec(
        "teachers.research_staff_below", name: "专职教研员低于专任教师4‰", owner: .district, ackWithin: RuleDuration(10, .workingDays))

    public var name: String { "Teachers" }
    public var eventTypes: [String] { [Self.rosterType, Self.trainingType] }
    public var payloadValidators: [String: PayloadValidator] {
        [
            Self.rosterType: { (r: FieldReader) throws(Rejection) in _ = try Roster(r) },
            Self.trainingType: { (r: FieldReader) throws(Rejection) in _ = try Training(r) },
        ]
    }
    public var manifest: HandlerManifest { Self.manifest }

    /// Made once: the indicators' flush reads it at every event.
    static let manifest = HandlerManifest(
        indicators: [
            IndicatorSpec("teachers.research_staff_share", kind: .ratio, name: "专职教研员占专任教师比例", definitionVersion: 2)
        ],
        rules: [Self.rotationRule, Self.trainingRule, Self.researchRule])
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        var teachers = SubjectMap<Teacher>()
        var deadlines = DeadlineQueue()
        var alerts = AlertBook()
        var indicators = IndicatorBook()
        /// Districts with staff, judged against the 4‰ once its deadline has passed.
        var districts: Set<RegionCode> = []
        public init() {}

        enum CodingKeys: String, CodingKey { case teachers, deadlines, alerts, indicators, districts }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            teachers = try c.decode(SubjectMap<Teacher>.self, forKey: .teachers)
            deadlines = try c.decode(DeadlineQueue.self, forKey: .deadlines)
            alerts = try c.decode(AlertBook.self, forKey: .alerts)
            indicators = try c.decode(IndicatorBook.self, forKey: .indicators)
            districts = try c.decodeIfPresent(Set<RegionCode>.self, forKey: .districts) ?? []
        }
    }

    enum Role: String, Codable, CaseIterable { case teacher, researcher, principal }
    enum Gender: String, Codable, CaseIterable { case male, female }

    struct Teacher: Codable, Sendable, Equatable {
        var schoolId: String
        var region: RegionCode
        var role: Role
        var since: LocalDate
        var cycleStart: LocalDate
        var hours: Int64 = 0
        var birthDate: LocalDate?
        var gender: Gender?

        /// 专任教师: teaching staff, principals included; the researchers are counted against them.
        var fullTime: Bool { role != .researcher }
    }

    struct Roster {
        var teacherId: String
        var schoolId: String
        var role: Role
        var since: LocalDate
        var left: Bool
        var birthDate: LocalDate?
        var gender: Gender?
        init(_ r: FieldReader) throws(Rejection) {
            teacherId = try r.string("teacherId", length: 1...128)
            schoolId = try r.string("schoolId", length: 1...128)
            role = try r.enumeration("role", Role.self)
            since = try r.date("since")
            switch r.object["left"] {
            case .bool(let b)?: left = b
            case nil, .null?: left = false
            case let other?: throw Rejection(.schemaViolation, "payload.left: expected true or false, got \(other.typeName)")
            }
            birthDate = try r.optionalDate("birthDate")
            gender = try r.optionalEnumeration("gender", Gender.self)
        }
    }

    struct Training {
        var teacherId: String
        var hours: Int64
        var completedOn: LocalDate
        init(_ r: FieldReader) throws(Rejection) {
            teacherId = try r.string("teacherId", length: 1...128)
            hours = try r.integer("hours", in: 1...1000)
            completedOn = try r.date("completedOn")
        }
    }

    /// 003 §39's "5年" are the national training cycles (2011–2015, 2016–2020, 2021–2025, …):
    /// the cycle containing `date`, its end exclusive. The last cycle of the calendar (a peer
    /// may send any date up to 9999-12-31) ends on its last day.
    static func cycle(containing date: LocalDate) -> (start: LocalDate, end: LocalDate) {
        let offset = date.year - 2011
        let first = 2011 + (offset >= 0 ? offset / 5 : -((-offset + 4) / 5)) * 5
        let start = LocalDate(year: first, month: 1, day: 1) ?? date
        return (start, LocalDate(year: first + Self.cycleYears, month: 1, day: 1) ?? Self.lastDay)
    }

    static let lastDay = LocalDate(iso: "9999-12-31")!

    /// Hours owed in the cycle ending `end` by a teacher counted from `start`: 360 for the whole
    /// cycle, pro rata (whole hours, rounded down) for one who joined during it.
    static func required(from start: LocalDate, end: LocalDate) -> Int64 {
        let whole = cycle(containing: end.adding(days: -1))
        let total = Int64(whole.end.dayNumber - whole.start.dayNumber)
        let served = Int64(max(0, end.dayNumber - max(start, whole.start).dayNumber))
        return Self.cycleHours * served / max(total, 1)
    }

    static func adding(years: Int, to date: LocalDate) -> LocalDate {
        LocalDate(year: date.year + years, month: date.month, day: min(date.day, 28)) ?? date
    }

    /// Whole years of age on `date`.
    static func age(born: LocalDate, on date: LocalDate) -> Int {
        date.year - born.year - ((date.month, date.day) < (born.month, born.day) ? 1 : 0)
    }

    /// 003 §7's age limit for rotation: men under 50, women under 45; principals under 50.
    static func ageLimit(_ t: Teacher) -> Int? {
        if t.role == .principal { return 50 }
        switch t.gender {
        case .male?: return 50
        case .female?: return 45
        case nil: return nil
        }
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        guard case .other(let object) = event.payload else { return out }
        let reader = FieldReader(object, path: "payload")
        if event.type == Self.rosterType {
            let roster = try Roster(reader)
            applyRoster(roster, region: event.region, state: &state, now: context.now, cause: event.id, out: &out)
        } else {
            let training = try Training(reader)
            guard var teacher = state.teachers[training.teacherId] else { return out }
            guard training.completedOn >= teacher.cycleStart, training.completedOn < Self.cycle(containing: teacher.cycleStart).end else {
                return out
            }
            teacher.hours = SafeInteger.add(teacher.hours, training.hours)
            state.teachers[training.teacherId] = teacher
            if teacher.hours >= Self.cycleHours,
                let o = state.alerts.resolve(
                    fingerprint: "\(Self.trainingRule.id)/\(training.teacherId)", at: context.now, causes: [event.id],
                    summary: "\(teacher.schoolId) 教师\(training.teacherId)本周期培训已达\(teacher.hours)学时")
            {
                out.append(o)
            }
        }
        out += expire(&state, context: context)
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

    private func count(_ t: Teacher, _ sign: Int64, id: String, cause: String, state: inout State) {
        state.indicators.add(
            "teachers.research_staff_share", kind: .ratio, district: t.region, numerator: t.role == .researcher ? sign : 0,
            denominator: t.fullTime ? sign : 0, subject: id, cause: cause)
    }

    private func applyRoster(_ r: Roster, region: RegionCode, state: inout State, now: Timestamp, cause: String, out: inout [HandlerOutput]) {
        let previous = state.teachers[r.teacherId]
        if let p = previous { count(p, -1, id: r.teacherId, cause: cause, state: &state) }
        let moved = previous.map { $0.schoolId != r.schoolId } ?? false
        if r.left || moved,
            let o = state.alerts.resolve(
                fingerprint: "\(Self.rotationRule.id)/\(r.teacherId)", at: now, causes: [cause],
                summary: "教师\(r.teacherId)已\(r.left ? "离开" : "交流至\(r.schoolId)")")
        {
            out.append(o)
        }
        if r.left {
            state.teachers[r.teacherId] = nil
            return
        }
        // A teacher first seen is judged from the national cycle in force (or from `since`, if
        // they joined during it), never for cycles that ended before the roster reached us.
        let cycleStart = previous?.cycleStart ?? max(r.since, Self.cycle(containing: now.localDate).start)
        var teacher = Teacher(
            schoolId: r.schoolId, region: region, role: r.role, since: moved ? r.since : (previous?.since ?? r.since),
            cycleStart: cycleStart, hours: previous?.hours ?? 0, birthDate: r.birthDate ?? previous?.birthDate,
            gender: r.gender ?? previous?.gender)
        if previous == nil || moved, teacher.role != .researcher {
            state.deadlines.schedule(
                DeadlineQueue.key("rotation", teacher.since, r.teacherId), at: Self.adding(years: Self.rotationYears, to: teacher.since).startInChina)
        }
        if previous == nil {
            state.deadlines.schedule(
                DeadlineQueue.key("cycle", teacher.cycleStart, r.teacherId), at: Self.cycle(containing: teacher.cycleStart).end.startInChina)
        }
        teacher.region = region
        state.teachers[r.teacherId] = teacher
        state.districts.insert(region)
        count(teacher, 1, id: r.teacherId, cause: cause, state: &state)
    }

    private func expire(_ state: inout State, context: HandlerContext) -> [HandlerOutput] {
        var out: [HandlerOutput] = []
        for entry in state.deadlines.popDue(now: context.now) {
            guard let parts = entry.parts, var teacher = state.teachers[parts.subject] else { continue }
            let id = parts.subject
            let due = Timestamp(epochMilliseconds: entry.due)
            if parts.stage == "rotation", teacher.since.description == parts.version {
                let day = due.localDate
                var note = ""
                if let born = teacher.birthDate, let limit = Self.ageLimit(teacher) {
                    // Over the age limit when the nine years are up: not among those to rotate.
                    guard Self.age(born: born, on: day) < limit else { continue }
                } else {
                    note = " (未报出生日期或性别, 请核对年龄条件)"
                }
                let who = teacher.role == .principal ? "校长" : "教师"
                let firing = AlertBook.Firing(
                    rule: Self.rotationRule.id, subjectKey: id, region: teacher.region,
                    subject: ["teacherId": id, "schoolId": teacher.schoolId], level: .blue,
                    summary: "\(teacher.schoolId) \(who)\(id)自\(teacher.since)起在同一学校任\(who == "校长" ? "职" : "教")满\(Self.rotationYears)年, 应纳入交流轮岗\(note)",
                    planRef: Self.rotationRef, at: due, causes: [])
                if let o = state.alerts.fire(firing) { out.append(o) }
            } else if parts.stage == "cycle", teacher.cycleStart.description == parts.version {
                let end = Self.cycle(containing: teacher.cycleStart).end
                let owed = Self.required(from: teacher.cycleStart, end: end)
                if teacher.hours < owed {
                    let firing = AlertBook.Firing(
                        rule: Self.trainingRule.id, subjectKey: id, region: teacher.region,
                        subject: ["teacherId": id, "schoolId": teacher.schoolId], level: .yellow,
                        summary: "\(teacher.schoolId) 教师\(id)\(teacher.cycleStart.year)—\(end.year - 1)年培训周期仅\(teacher.hours)学时, 不足\(owed)学时\(owed < Self.cycleHours ? "(周期内入职, 按在岗时间折算)" : "")",
                        planRef: Self.trainingRef, at: due, causes: [])
                    if let o = state.alerts.fire(firing) { out.append(o) }
                }
                teacher.cycleStart = end
                teacher.hours = 0
                state.teachers[id] = teacher
                state.deadlines.schedule(DeadlineQueue.key("cycle", teacher.cycleStart, id), at: Self.cycle(containing: end).end.startInChina)
            }
        }
        return out
    }

    /// Publishes the shares; from 2025 on (003 §32's deadline), a district below 4‰ raises
    /// `teachers.research_staff_below` until it reaches it.
    private func flush(_ state: inout State, context: HandlerContext, tick: Bool, out: inout [HandlerOutput]) {
        let (updates, _) = state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest, tick: tick)
        out += updates
        guard context.now.localDate > Self.researchDeadline else { return }
        let touched = updates.compactMap { if case .indicator(let u) = $0, u.region.isDistrict { u.region } else { nil } }
        for district in tick ? state.districts.sorted() : touched {
            let fingerprint = "\(Self.researchRule.id)/\(district.code)"
            let researchers = state.indicators.numerator("teachers.research_staff_share", region: district)
            let staff = state.indicators.denominator("teachers.research_staff_share", region: district)
            guard let share = state.indicators.value("teachers.research_staff_share", region: district) else { continue }
            if share < Self.researchShare {
                let firing = AlertBook.Firing(
                    rule: Self.researchRule.id, subjectKey: district.code, region: district, subject: ["region": district.code],
                    level: .yellow,
                    summary:
                        "\(district.code) 专职教研员\(researchers)人, 占专任教师\(staff)人的\(Format.number(share * 1000))‰, 低于4‰(应于2024年底前达到)",
                    planRef: Self.researchRef, at: context.now, causes: [])
                if let o = state.alerts.fire(firing) { out.append(o) }
            } else if let o = state.alerts.resolve(fingerprint: fingerprint, at: context.now, causes: [], summary: "\(district.code) 专职教研员已达专任教师4‰") {
                out.append(o)
            }
        }
    }
}
