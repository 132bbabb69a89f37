import PlanWatchModel

/// Campus safety incidents, each category sized and timed as it happens: bullying and traffic
/// often and small, food poisoning and infectious disease in numbers, drowning in the summer
/// and sometimes fatal; some reported only once already resolved (上报时已处置完毕), some
/// never closed; one school with three incidents in a month, and two canteens of one district
/// poisoned within 48 hours (a shared supplier).
extension Simulator {
    struct IncidentKind {
        var category: String
        /// Relative frequency.
        var weight: Int
        var affected: ClosedRange<Int64>
        /// Of the affected, at most this share injured.
        var injuredShare: Double
        /// One in `deathOdds` has a death (0: never).
        var deathOdds: Int
        /// Hours to resolve.
        var hours: ClosedRange<Int>
        var describe: String
    }

    static let incidentKinds: [IncidentKind] = [
        IncidentKind(category: "bullying", weight: 16, affected: 1...3, injuredShare: 0.5, deathOdds: 0, hours: 24...120, describe: "学生反映遭同学欺凌"),
        IncidentKind(category: "traffic", weight: 14, affected: 1...4, injuredShare: 1, deathOdds: 40, hours: 4...48, describe: "放学途中发生交通事故"),
        IncidentKind(category: "infectiousDisease", weight: 10, affected: 8...60, injuredShare: 0.3, deathOdds: 0, hours: 72...240, describe: "班级出现传染病聚集性病例"),
        IncidentKind(category: "foodPoisoning", weight: 6, affected: 12...120, injuredShare: 0.2, deathOdds: 0, hours: 12...72, describe: "午餐后多名学生腹痛"),
        IncidentKind(category: "fraud", weight: 8, affected: 1...6, injuredShare: 0, deathOdds: 0, hours: 24...96, describe: "家长遭冒充教师诈骗"),
        IncidentKind(category: "fire", weight: 4, affected: 0...30, injuredShare: 0.1, deathOdds: 0, hours: 2...24, describe: "实验室起火"),
        IncidentKind(category: "schoolBus", weight: 3, affected: 5...40, injuredShare: 0.4, deathOdds: 30, hours: 6...48, describe: "校车途中发生碰撞"),
        IncidentKind(category: "buildingSafety", weight: 4, affected: 0...10, injuredShare: 0.2, deathOdds: 0, hours: 24...240, describe: "教学楼墙体出现裂缝"),
        IncidentKind(category: "naturalDisaster", weight: 3, affected: 20...400, injuredShare: 0.02, deathOdds: 0, hours: 12...96, describe: "暴雨导致校园积水"),
        IncidentKind(category: "violence", weight: 4, affected: 1...5, injuredShare: 0.8, deathOdds: 60, hours: 12...72, describe: "校外人员闯入校园伤人"),
        IncidentKind(category: "sexualAbuse", weight: 1, affected: 1...2, injuredShare: 1, deathOdds: 0, hours: 48...240, describe: "学生家长举报教职工侵害学生"),
        IncidentKind(category: "other", weight: 5, affected: 1...5, injuredShare: 0.5, deathOdds: 0, hours: 4...48, describe: "其他校园安全事件"),
    ]

    /// Drowning is a summer risk (防溺水): its own stream from May to September.
    static let drowning = IncidentKind(
        category: "drowning", weight: 0, affected: 1...2, injuredShare: 1, deathOdds: 3, hours: 4...24, describe: "学生课后在河道游泳溺水")

    func incidents(_ schools: [School], _ b: inout StreamBuilder) {
        var n = 0
        func incident(_ school: School, _ kind: IncidentKind, day: Int, affected: Int64, injured: Int64, deaths: Int64,
            resolveAfter: Int?, reportedResolved: Bool = false, _ b: inout StreamBuilder)
        {
            n += 1
            let id = "INC-\(seed % 10_000)-\(n)"
            let reported = b.time(day: day, minute: Int.random(in: 420...1200, using: &b.rng))
            func payload(_ status: String, resolvedAt: Timestamp?) -> JSONValue {
                .object(
                    JSONObject([
                        ("incidentId", .string(id)), ("schoolId", .string(school.id)), ("category", .string(kind.category)),
                        ("status", .string(status)), ("affected", .integer(affected)), ("injured", .integer(injured)),
                        ("deaths", .integer(deaths)), ("reportedAt", .string(reported.description)),
                        ("resolvedAt", .optional(resolvedAt?.description)), ("description", .string(kind.describe)),
                    ]))
            }
            if reportedResolved {
                // Reported after the fact: the only report already says resolved.
                let happened = reported.adding(seconds: -Int64(resolveAfter ?? 24) * 3600)
                b.add(type: EventType.safetyIncident, source: "anquan", region: school.region, at: reported,
                    payload: payload("resolved", resolvedAt: happened.adding(seconds: 3600)))
                return
            }
            b.add(type: EventType.safetyIncident, source: "anquan", region: school.region, at: reported, payload: payload("reported", resolvedAt: nil))
            b.add(type: EventType.safetyIncident, source: "anquan", region: school.region, at: reported.adding(seconds: 3600),
                payload: payload("responding", resolvedAt: nil))
            if let resolveAfter {
                let at = reported.adding(seconds: Int64(resolveAfter) * 3600)
                b.add(type: EventType.safetyIncident, source: "anquan", region: school.region, at: at, payload: payload("resolved", resolvedAt: at))
            }
        }
        func random(_ kind: IncidentKind, day: Int, _ b: inout StreamBuilder) {
            let school = schools[Int.random(in: 0..<schools.count, using: &b.rng)]
            let affected = Int64.random(in: kind.affected, using: &b.rng)
            let injured = Int64.random(in: 0...Int64((Double(affected) * kind.injuredShare).rounded(.down)), using: &b.rng)
            let deaths: Int64 = kind.deathOdds > 0 && Int.random(in: 0..<kind.deathOdds, using: &b.rng) == 0 ? 1 : 0
            let roll = Int.random(in: 0..<20, using: &b.rng)
            // One in twenty never closed (it goes overdue); one in twenty reported only once resolved.
            incident(school, kind, day: day, affected: max(affected, deaths), injured: injured, deaths: deaths,
                resolveAfter: roll == 0 ? nil : Int.random(in: kind.hours, using: &b.rng), reportedResolved: roll == 1, &b)
        }
        // About one incident a school-day across the city's schools, scaled to their number.
        let total = max(20, schools.count * days / 1000)
        let weights = Self.incidentKinds.reduce(0) { $0 + $1.weight }
        for _ in 0..<total {
            var pick = Int.random(in: 0..<weights, using: &b.rng)
            let kind = Self.incidentKinds.first { pick -= $0.weight; return pick < 0 } ?? Self.incidentKinds[0]
            random(kind, day: Int.random(in: 1..<days, using: &b.rng), &b)
        }
        let may = LocalDate(year: start.year, month: 5, day: 1)!.dayNumber - start.dayNumber
        for _ in 0..<max(3, schools.count / 40) where may < min(autumnDay + 30, days) {
            random(Self.drowning, day: Int.random(in: may..<min(autumnDay + 30, days), using: &b.rng), &b)
        }
        // Three deaths, reported only after it was over: still a red alert, fired and resolved.
        let bus = Self.incidentKinds.first { $0.category == "schoolBus" }!
        incident(schools[schools.count / 2], bus, day: min(75, days - 1), affected: 18, injured: 9, deaths: 3, resolveAfter: 30,
            reportedResolved: true, &b)
        // One school with three incidents within a month.
        let repeatSchool = schools[min(7, schools.count - 1)]
        for (i, day) in [40, 52, 61].enumerated() {
            let kind = Self.incidentKinds.first { $0.category == ["bullying", "traffic", "violence"][i] }!
            incident(repeatSchool, kind, day: day, affected: 2, injured: 1, deaths: 0, resolveAfter: 20, &b)
        }
        // Food poisoning at two schools of one district within 48 hours: a shared supplier.
        let district = city.districts[min(1, city.districts.count - 1)].code
        let food = Self.incidentKinds.first { $0.category == "foodPoisoning" }!
        for (i, school) in schools.filter({ $0.region == district }).prefix(2).enumerated() {
            incident(school, food, day: 90 + i, affected: 35 + Int64(i) * 80, injured: 3, deaths: 0, resolveAfter: 30, &b)
        }
    }
}
