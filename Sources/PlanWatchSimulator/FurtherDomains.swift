import PlanWatchModel

/// The further domains of docs/domains.md over the simulated year, at a city's scale: for
/// Zibo's 288 schools about 70 inspection visits, 200 hazards, 550 drills, 150 patrols of
/// training institutions, 240 disabled children, 300 aid payments and one infrastructure survey
/// per school — and, on purpose, a few of each that go wrong, so that every rule of these
/// domains fires at least once in a year: findings and hazards left past their dates, schools
/// that skip the spring drill, a child never placed, a payment never made, slow classrooms.
extension Simulator {
    func furtherDomains(_ all: [School], families: Set<Family>, _ b: inout StreamBuilder) {
        let schools = all.filter { $0.opens == 0 }
        if families.contains(.further) {
            inspections(schools, &b)
            hazards(schools, &b)
            drills(schools, &b)
            trainingPatrols(&b)
            specialPlacements(&b)
            aidPayments(schools, &b)
        }
        if families.contains(.infrastructure) { infrastructure(schools, &b) }
    }

    private func date(_ day: Int) -> String { start.adding(days: day).description }

    private func roll(_ b: inout StreamBuilder) -> Int { Int.random(in: 0..<100, using: &b.rng) }

    /// A day from `lower` to `upper`, within the stream (never a reversed range, however short it is).
    private func day(_ lower: Int, _ upper: Int, _ b: inout StreamBuilder) -> Int {
        let top = max(lower, min(upper, days - 1))
        return Int.random(in: lower...top, using: &b.rng)
    }

    /// 003 §25: a fifth of the kindergartens a year, and comprehensive visits of other schools;
    /// a third find problems, most put right in time, some late, the first never.
    private func inspections(_ schools: [School], _ b: inout StreamBuilder) {
        var n = 0
        for school in schools {
            let kindergarten = school.level == .preschool
            guard roll(&b) < (kindergarten ? 24 : 8) else { continue }
            n += 1
            let id = "DD-\(seed % 10_000)-\(n)"
            let visitDay = n == 1 ? 10 : day(5, days - 100, &b)
            let findings: Int64 = n == 1 || roll(&b) < 30 ? Int64.random(in: 1...5, using: &b.rng) : 0
            let rectifyDay = visitDay + Int.random(in: 20...45, using: &b.rng)
            func visit(rectifiedOn: Int?) -> JSONValue {
                .object([
                    "visitId": .string(id), "schoolId": .string(school.id), "level": .string(school.level.rawValue),
                    "inspectionType": kindergarten ? "kindergartenConduct" : "comprehensive", "date": .string(date(visitDay)),
                    "findings": .integer(findings), "rectifyBy": findings > 0 ? .string(date(rectifyDay)) : .null,
                    "rectifiedOn": rectifiedOn.map { .string(date($0)) } ?? .null,
                ])
            }
            b.add(type: InspectionVisit.type, source: "dudao", region: school.region, at: b.time(day: visitDay, minute: 16 * 60), payload: visit(rectifiedOn: nil))
            guard findings > 0, n > 1 else { continue }
            let r = roll(&b)
            let fixed = r < 75 ? rectifyDay - Int.random(in: 1...15, using: &b.rng) : r < 95 ? rectifyDay + Int.random(in: 3...45, using: &b.rng) : nil
            if let fixed, fixed < days {
                b.add(type: InspectionVisit.type, source: "dudao", region: school.region, at: b.time(day: fixed, minute: 17 * 60), payload: visit(rectifiedOn: fixed))
            }
        }
    }

    /// Zibo 2020 §30 隐患排查整治: about 0.7 hazards a school; most rectified in time.
    private func hazards(_ schools: [School], _ b: inout StreamBuilder) {
        let kinds = ["building", "fire", "food", "schoolBus", "surroundings", "fire", "building", "other"]
        var n = 0
        for school in schools {
            for _ in 0..<Int.random(in: 0...1, using: &b.rng) + (roll(&b) < 20 ? 1 : 0) {
                n += 1
                let id = "YH-\(seed % 10_000)-\(n)"
                let found = n == 1 ? 3 : day(1, days - 60, &b)
                let by = found + Int.random(in: 7...30, using: &b.rng)
                let kind = n == 2 ? "schoolBus" : kinds[Int.random(in: 0..<kinds.count, using: &b.rng)]
                func hazard(_ status: String, on: Int?) -> JSONValue {
                    .object([
                        "hazardId": .string(id), "schoolId": .string(school.id), "kind": .string(kind), "found": .string(date(found)),
                        "rectifyBy": .string(date(by)), "status": .string(status), "rectifiedOn": on.map { .string(date($0)) } ?? .null,
                        "description": .string(Self.hazardText(kind)),
                    ])
                }
                b.add(type: SafetyHazard.type, source: "anquan", region: school.region, at: b.time(day: found, minute: 10 * 60), payload: hazard("found", on: nil))
                b.add(type: SafetyHazard.type, source: "anquan", region: school.region, at: b.time(day: found + 1, minute: 10 * 60), payload: hazard("rectifying", on: nil))
                let r = roll(&b)
                let fixed: Int? = n <= 2 ? nil : r < 85 ? by - Int.random(in: 0...6, using: &b.rng) : r < 96 ? by + Int.random(in: 2...40, using: &b.rng) : nil
                if let fixed, fixed < days {
                    b.add(type: SafetyHazard.type, source: "anquan", region: school.region, at: b.time(day: fixed, minute: 15 * 60), payload: hazard("rectified", on: fixed))
                }
            }
        }
    }

    static func hazardText(_ kind: String) -> String {
        switch kind {
        case "building": "教学楼外墙瓷砖松动"
        case "fire": "消防通道堆放杂物, 灭火器过期"
        case "food": "食堂留样记录不全"
        case "schoolBus": "校车安全带损坏"
        case "surroundings": "校门口流动摊贩占道"
        default: "围墙护栏破损"
        }
    }

    /// Zibo 2020 §30 定期组织应急疏散演练: one drill a term at nearly every school.
    private func drills(_ schools: [School], _ b: inout StreamBuilder) {
        let springEnd = LocalDate(year: start.year, month: 8, day: 1)!.dayNumber - start.dayNumber
        let autumnStart = LocalDate(year: start.year, month: 9, day: 1)!.dayNumber - start.dayNumber
        var n = 0
        for (i, school) in schools.enumerated() {
            let terms = [(10, springEnd - 20), (autumnStart, autumnStart + 75)]
            for (t, range) in terms.enumerated() where range.0 >= 0 && range.0 <= range.1 && range.0 < days {
                // One school in thirty skips the spring drill; it holds one in the autumn.
                if t == 0 && (i % 30 == 7) { continue }
                n += 1
                let d = day(range.0, range.1, &b)
                let kind = ["evacuation", "evacuation", "fire", "earthquake"][Int.random(in: 0..<4, using: &b.rng)]
                let size = school.classes.reduce(Int64(0)) { $0 + $1.size }
                b.add(type: SafetyDrill.type, source: "anquan", region: school.region, at: b.time(day: d, minute: 15 * 60),
                    payload: .object([
                        "drillId": .string("YL-\(seed % 10_000)-\(n)"), "schoolId": .string(school.id), "kind": .string(kind),
                        "date": .string(date(d)), "participants": .integer(max(1, size + Int64(school.classes.count) * 2)),
                    ]))
            }
        }
    }

    /// City 2023 §7 常态巡查: a patrol a working day or so across the city; one in eight finds
    /// violations, most rectified within the two weeks given.
    private func trainingPatrols(_ b: inout StreamBuilder) {
        let violations = ["hiddenVariant", "aheadOfCurriculum", "paidTutoring", "unlicensed", "other"]
        let names = ["启航教育", "博学堂", "新思维培训", "智慧树艺术", "领航学科", "阳光书院"]
        for n in 1...max(1, days / 2) {
            let district = city.districts[Int.random(in: 0..<city.districts.count, using: &b.rng)]
            let id = "XC-\(seed % 10_000)-\(n)"
            let institution = "JG-\(district.code.code)-\(String(Int.random(in: 1...120, using: &b.rng) + 1000).dropFirst())"
            let d = n == 1 ? 6 : day(1, days - 40, &b)
            var found: [JSONValue] = []
            if n == 1 || roll(&b) < 12 {
                found.append(.string(violations[Int.random(in: 0..<violations.count, using: &b.rng)]))
                if roll(&b) < 30 { found.append("aheadOfCurriculum") }
                if found.count == 2 && found[0] == found[1] { found.removeLast() }
            }
            let by = d + 14
            func patrol(_ status: String) -> JSONValue {
                .object([
                    "inspectionId": .string(id), "institutionId": .string(institution),
                    "institutionName": .string(names[n % names.count]), "date": .string(date(d)), "violations": .array(found),
                    "status": found.isEmpty ? .null : .string(status), "rectifyBy": found.isEmpty ? .null : .string(date(by)),
                ])
            }
            b.add(type: TrainingInspection.type, source: "xiaowai", region: district.code, at: b.time(day: d, minute: 14 * 60), payload: patrol("found"))
            guard !found.isEmpty, n > 1 else { continue }
            let fixed = roll(&b) < 80 ? by - Int.random(in: 1...10, using: &b.rng) : by + Int.random(in: 3...30, using: &b.rng)
            if fixed < days {
                b.add(type: TrainingInspection.type, source: "xiaowai", region: district.code, at: b.time(day: fixed, minute: 14 * 60), payload: patrol("rectified"))
            }
        }
    }

    /// City 2023 §12 应上尽上: about 30 identified children a district at the start of term, nearly
    /// all placed; a few wait, one is never placed.
    private func specialPlacements(_ b: inout StreamBuilder) {
        let disabilities = ["intellectual", "physical", "hearing", "visual", "speech", "mental", "multiple"]
        var n = 0
        for district in city.districts {
            for _ in 0..<Int.random(in: 24...36, using: &b.rng) {
                n += 1
                let child = "C-\(seed % 10_000)-\(n)"
                let disability = disabilities[Int.random(in: 0..<disabilities.count, using: &b.rng)]
                let identified = day(0, 30, &b)
                let r = roll(&b)
                let placement = n == 1 || r < 8 ? "notPlaced" : r < 60 ? "regularClass" : r < 85 ? "specialSchool" : "homeDelivered"
                func event(_ placement: String, _ d: Int) {
                    b.add(type: SpecialPlacement.type, source: "teshu", region: district.code, at: b.time(day: d, minute: 11 * 60),
                        payload: .object([
                            "childRef": .string(child), "disability": .string(disability), "placement": .string(placement),
                            "date": .string(date(d)), "schoolId": placement == "notPlaced" ? .null : .string("\(district.code.code)-T001"),
                        ]))
                }
                event(placement, identified)
                if placement == "notPlaced" && n > 1 {
                    let placed = identified + Int.random(in: 20...70, using: &b.rng)
                    if placed < days { event(roll(&b) < 50 ? "homeDelivered" : "specialSchool", placed) }
                }
            }
        }
    }

    /// 003 §32 按时足额: each term, national grants and tuition waivers for senior and vocational
    /// schools, nutrition and boarding allowances for the counties' primary and junior schools.
    private func aidPayments(_ schools: [School], _ b: inout StreamBuilder) {
        let dues = [LocalDate(year: start.year, month: 4, day: 30)!, LocalDate(year: start.year, month: 10, day: 31)!]
        var n = 0
        for school in schools {
            var programmes: [String] = []
            let county = school.region.code.hasPrefix("37032")  // 桓台, 高青, 沂源
            switch school.level {
            case .senior: programmes = ["nationalGrant"]
            case .vocational: programmes = ["nationalGrant", "tuitionWaiver"]
            case .primary where county: programmes = ["nutrition"]
            case .junior where county: programmes = ["nutrition", "boardingAllowance"]
            default: continue
            }
            let pupils = school.classes.reduce(Int64(0)) { $0 + $1.size }
            for (t, due) in dues.enumerated() {
                let dueDay = due.dayNumber - start.dayNumber
                guard dueDay - 30 >= 0, dueDay - 30 < days else { continue }
                for programme in programmes {
                    n += 1
                    let id = "ZZ-\(seed % 10_000)-\(n)"
                    let students = programme == "nutrition" || programme == "tuitionWaiver" ? pupils : max(1, pupils / 6)
                    let perStudent: Int64 = ["nationalGrant": 1000, "tuitionWaiver": 1000, "nutrition": 400, "boardingAllowance": 625][programme] ?? 500
                    func payment(paid: Int?) -> JSONValue {
                        .object([
                            "paymentId": .string(id), "programme": .string(programme), "schoolId": .string(school.id),
                            "term": .string("\(start.year)-\(t == 0 ? "spring" : "autumn")"), "due": .string(due.description),
                            "students": .integer(students), "amountDue": .integer(students * perStudent),
                            "paidStudents": .integer(paid == nil ? 0 : students), "amountPaid": .integer(paid == nil ? 0 : students * perStudent),
                            "paidOn": paid.map { .string(date($0)) } ?? .null,
                        ])
                    }
                    b.add(type: AidPayment.type, source: "zizhu", region: school.region, at: b.time(day: dueDay - 30, minute: 9 * 60), payload: payment(paid: nil))
                    let r = roll(&b)
                    let paid: Int? = n == 1 ? nil : r < 94 ? dueDay - Int.random(in: 1...20, using: &b.rng) : r < 99 ? dueDay + Int.random(in: 3...25, using: &b.rng) : nil
                    if let paid, paid < days {
                        b.add(type: AidPayment.type, source: "zizhu", region: school.region, at: b.time(day: paid, minute: 16 * 60), payload: payment(paid: paid))
                    }
                }
            }
        }
    }

    /// 003 §43: one survey a school early in the year; a tenth on slow lines, some short of
    /// terminals; half of the slow ones are upgraded later in the year.
    private func infrastructure(_ schools: [School], _ b: inout StreamBuilder) {
        for (i, school) in schools.enumerated() {
            let classrooms = Int64(school.classes.count) + Int64.random(in: 0...4, using: &b.rng)
            let teachers = Int64(Double(school.classes.count) * (school.level == .preschool ? 2.2 : 1.8)) + 2
            let slow = i == 0 || roll(&b) < 10
            let short = i == 0 || roll(&b) < 15
            let mbps: Int64 = slow ? [10, 20, 20][Int.random(in: 0..<3, using: &b.rng)] : [100, 200, 1000][Int.random(in: 0..<3, using: &b.rng)]
            func report(_ mbps: Int64, _ terminals: Int64) -> JSONValue {
                .object([
                    "schoolId": .string(school.id), "classrooms": .integer(classrooms), "bandwidthMbps": .integer(mbps),
                    "teacherTerminals": .integer(terminals), "teachers": .integer(teachers),
                ])
            }
            let surveyed = day(5, 60, &b)
            let terminals = short ? max(0, teachers - Int64.random(in: 2...12, using: &b.rng)) : teachers
            b.add(type: ClassroomInfrastructure.type, source: "xinxihua", region: school.region, at: b.time(day: surveyed, minute: 10 * 60), payload: report(mbps, terminals))
            if (slow || short) && i > 0 && roll(&b) < 50 {
                let upgraded = surveyed + Int.random(in: 60...200, using: &b.rng)
                if upgraded < days {
                    b.add(type: ClassroomInfrastructure.type, source: "xinxihua", region: school.region, at: b.time(day: upgraded, minute: 10 * 60), payload: report(200, teachers))
                }
            }
        }
    }
}
