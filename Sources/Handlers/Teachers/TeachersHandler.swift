import HandlerKit

/// Teachers (教师队伍): training hours against 360 per 5 years, rotation of teachers 9+ years
/// in one school, and research staff of at least 4‰ of teachers (seed 003). Written against
/// HandlerKit only; its event types `teacher.roster` and `teacher.training` are in docs/domains.md.
public struct TeachersHandler: Handler {
    public init() {}

    public static let rosterType = "teacher.roster"
    public static let trainingType = "teacher.training"
    public static let cycleHours: Int64 = 360
    public static let cycleYears = 5
    public static let rotationYears = 9
    public static let researchShare = 0.004

    public var name: String { "Teachers" }
    public var eventTypes: [String] { [Self.rosterType, Self.trainingType] }
    public var payloadValidators: [String: EventDecoder.PayloadValidator] {
        [
            Self.rosterType: { (r: FieldReader) throws(Rejection) in _ = try Roster(r) },
            Self.trainingType: { (r: FieldReader) throws(Rejection) in _ = try Training(r) },
        ]
    }
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        var teachers: [String: Teacher] = [:]
        var deadlines = DeadlineQueue()
        var alerts = AlertBook()
        var indicators = IndicatorBook()
        public init() {}
    }

    struct Teacher: Codable, Sendable, Equatable {
        var schoolId: String
        var region: RegionCode
        var researcher: Bool
        var since: LocalDate
        var cycleStart: LocalDate
        var hours: Int64 = 0
    }

    struct Roster {
        var teacherId: String
        var schoolId: String
        var role: String
        var since: LocalDate
        var left: Bool
        init(_ r: FieldReader) throws(Rejection) {
            teacherId = try r.string("teacherId", length: 1...128)
            schoolId = try r.string("schoolId", length: 1...128)
            role = try r.string("role")
            guard role == "teacher" || role == "researcher" else {
                throw Rejection(.schemaViolation, "payload.role: \"\(role)\" is not one of teacher, researcher")
            }
            since = try r.date("since")
            switch r.object["left"] {
            case .bool(let b)?: left = b
            case nil, .null?: left = false
            case let other?: throw Rejection(.schemaViolation, "payload.left: expected true or false, got \(other.typeName)")
            }
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

    static func adding(years: Int, to date: LocalDate) -> LocalDate {
        LocalDate(year: date.year + years, month: date.month, day: min(date.day, 28)) ?? date
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, now: context.now)
        guard case .other(let object) = event.payload else { return out }
        let reader = FieldReader(object, path: "payload")
        if event.type == Self.rosterType {
            let roster = try Roster(reader)
            applyRoster(roster, region: event.region, state: &state, now: context.now, cause: event.id, out: &out)
        } else {
            let training = try Training(reader)
            guard var teacher = state.teachers[training.teacherId] else { return out }
            guard training.completedOn >= teacher.cycleStart else { return out }
            teacher.hours = SafeInteger.add(teacher.hours, training.hours)
            state.teachers[training.teacherId] = teacher
            if teacher.hours >= Self.cycleHours,
                let o = state.alerts.resolve(
                    fingerprint: "teachers.training_shortfall/\(training.teacherId)", at: context.now, causes: [event.id],
                    summary: "\(teacher.schoolId) 教师\(training.teacherId)本周期培训已达\(teacher.hours)学时")
            {
                out.append(o)
            }
        }
        out += expire(&state, now: context.now)
        flush(&state, now: context.now, out: &out)
        return out
    }

    public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, now: context.now)
        flush(&state, now: context.now, out: &out)
        return out
    }

    public func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation? {
        state.indicators.explain(indicator, region: region)
    }

    private func applyRoster(_ r: Roster, region: RegionCode, state: inout State, now: Timestamp, cause: String, out: inout [HandlerOutput]) {
        let previous = state.teachers[r.teacherId]
        if let p = previous {
            state.indicators.add(
                "teachers.research_staff_share", kind: .ratio, district: p.region, numerator: p.researcher ? -1 : 0, denominator: -1,
                subject: r.teacherId, cause: cause)
        }
        let moved = previous.map { $0.schoolId != r.schoolId } ?? false
        if r.left || moved,
            let o = state.alerts.resolve(
                fingerprint: "teachers.rotation_due/\(r.teacherId)", at: now, causes: [cause],
                summary: "教师\(r.teacherId)已\(r.left ? "离开" : "交流至\(r.schoolId)")")
        {
            out.append(o)
        }
        if r.left {
            state.teachers[r.teacherId] = nil
            return
        }
        var teacher = Teacher(
            schoolId: r.schoolId, region: region, researcher: r.role == "researcher", since: moved ? r.since : (previous?.since ?? r.since),
            cycleStart: previous?.cycleStart ?? r.since, hours: previous?.hours ?? 0)
        if previous == nil || moved {
            state.deadlines.schedule(
                "rotation|\(teacher.since)|\(r.teacherId)", at: Self.adding(years: Self.rotationYears, to: teacher.since).startInChina)
        }
        if previous == nil {
            state.deadlines.schedule(
                "cycle|\(teacher.cycleStart)|\(r.teacherId)", at: Self.adding(years: Self.cycleYears, to: teacher.cycleStart).startInChina)
        }
        teacher.region = region
        state.teachers[r.teacherId] = teacher
        state.indicators.add(
            "teachers.research_staff_share", kind: .ratio, district: region, numerator: teacher.researcher ? 1 : 0, denominator: 1,
            subject: r.teacherId, cause: cause)
    }

    private func expire(_ state: inout State, now: Timestamp) -> [HandlerOutput] {
        var out: [HandlerOutput] = []
        for entry in state.deadlines.popDue(now: now) {
            let parts = entry.key.split(separator: "|", maxSplits: 2).map(String.init)
            guard parts.count == 3, var teacher = state.teachers[parts[2]] else { continue }
            let id = parts[2]
            if parts[0] == "rotation", teacher.since.description == parts[1] {
                let firing = AlertBook.Firing(
                    rule: "teachers.rotation_due", subjectKey: id, region: teacher.region,
                    subject: ["teacherId": id, "schoolId": teacher.schoolId], level: .blue,
                    summary: "\(teacher.schoolId) 教师\(id)自\(teacher.since)起在同一学校任教满\(Self.rotationYears)年, 应纳入交流轮岗",
                    planRef: "District plans 2021 (003)", at: Timestamp(epochMilliseconds: entry.due), causes: [])
                if let o = state.alerts.fire(firing) { out.append(o) }
            } else if parts[0] == "cycle", teacher.cycleStart.description == parts[1] {
                if teacher.hours < Self.cycleHours {
                    let firing = AlertBook.Firing(
                        rule: "teachers.training_shortfall", subjectKey: id, region: teacher.region,
                        subject: ["teacherId": id, "schoolId": teacher.schoolId], level: .yellow,
                        summary: "\(teacher.schoolId) 教师\(id)五年周期培训仅\(teacher.hours)学时, 不足\(Self.cycleHours)学时",
                        planRef: "District plans 2021 (003)", at: Timestamp(epochMilliseconds: entry.due), causes: [])
                    if let o = state.alerts.fire(firing) { out.append(o) }
                }
                teacher.cycleStart = Self.adding(years: Self.cycleYears, to: teacher.cycleStart)
                teacher.hours = 0
                state.teachers[id] = teacher
                state.deadlines.schedule(
                    "cycle|\(teacher.cycleStart)|\(id)", at: Self.adding(years: Self.cycleYears, to: teacher.cycleStart).startInChina)
            }
        }
        return out
    }

    private func flush(_ state: inout State, now: Timestamp, out: inout [HandlerOutput]) {
        let (updates, _) = state.indicators.flush(now: now, plans: PlanSet())
        out += updates
        for case .indicator(let u) in updates {
            let fingerprint = "teachers.research_staff_below/\(u.region.code)"
            if let value = u.value, value < Self.researchShare {
                let firing = AlertBook.Firing(
                    rule: "teachers.research_staff_below", subjectKey: u.region.code, region: u.region, subject: ["region": u.region.code],
                    level: .yellow,
                    summary: "\(u.region.code) 教研员\(u.numerator ?? 0)人, 占教师\(u.denominator ?? 0)人的\(Format.number(value * 1000))‰, 低于4‰",
                    planRef: "District plans 2021 (003)", at: now, causes: [])
                if let o = state.alerts.fire(firing) { out.append(o) }
            } else if let o = state.alerts.resolve(fingerprint: fingerprint, at: now, causes: [], summary: "\(u.region.code) 教研员配备已达4‰") {
                out.append(o)
            }
        }
    }
}
