import HandlerKit
import HandlerKitTesting
import StudentAid
import Testing

/// 003 §32 "按时足额做好资助金发放工作, 做到应助尽助"; Zibo 2020 §9 "全面落实教育资助免补政策".
/// 营养改善计划: 4 yuan a pupil a school day in 2020, about 100 days a term.
@Suite struct StudentAidScenarioTests {
    static func payment(
        _ id: String, school: String = "370303-P017", programme: String = "nutrition", due: String = "2020-10-31", students: Int64 = 600,
        paidStudents: Int64 = 0, paidOn: String? = nil
    ) -> JSONValue {
        var o = JSONObject([
            ("paymentId", .string(id)), ("programme", .string(programme)), ("schoolId", .string(school)), ("term", "2020-autumn"),
            ("due", .string(due)), ("students", .integer(students)), ("amountDue", .integer(students * 400)),
            ("paidStudents", .integer(paidStudents)), ("amountPaid", .integer(paidStudents * 400)),
        ])
        if let paidOn { o["paidOn"] = .string(paidOn) }
        return .object(o)
    }

    static let zibo2020 = PlanSet(plans: [
        Plan(
            plan: "Zibo 2020", title: "2020年工作要点", city: RegionCode("370300")!, source: nil,
            period: .init(start: LocalDate(iso: "2020-01-01")!, end: LocalDate(iso: "2020-12-31")!),
            targets: [
                PlanTarget(indicator: "aid.paid_on_time_share", scope: .city, atLeast: 1, deadline: LocalDate(iso: "2020-12-31")!, planRef: "Zibo 2020 §9")
            ])
    ])

    @Test func aPaymentLateOnItsDueDateIsYellowOrangeTenWorkingDaysLaterAndResolvedWhenPaidInFull() throws {
        var s = Scenario(StudentAidHandler(), now: "2020-10-09T09:00:00+08:00")
        s.plans = Self.zibo2020
        try s.send(AidPayment.type, region: "370303", payload: Self.payment("NUT-1", paidStudents: 600, paidOn: "2020-10-20"))
        try s.advance(hours: 16)  // levels are judged once their first day of data is over
        #expect(s.indicator("aid.paid_on_time_share", "370300")?.status == .met)
        try s.send(AidPayment.type, region: "370303", payload: Self.payment("NUT-2", school: "370303-P018", students: 300, paidStudents: 280, paidOn: "2020-10-30"))
        #expect(s.firing("aid.payment_late/NUT-2") == nil)
        try s.advance(hours: 23 * 24 - 16)  // Sunday 2020-11-01 09:00
        let late = try #require(s.firing("aid.payment_late/NUT-2"))
        #expect(late.level == .yellow && late.planRef == "District plans (003) §32")
        #expect(late.summary == "370303-P018 2020年秋季学期营养改善计划补助 应发300人, 已发280人, 已过发放期限(2020-10-31)仍未足额发放")
        let share = try #require(s.indicator("aid.paid_on_time_share", "370300"))
        #expect(share.numerator == 600 && share.denominator == 900 && share.status == .offTrack)
        #expect(s.indicator("aid.late_payments", "370303")?.value == 1)
        try s.advance(days: 12)  // 2020-11-13 09:00: the tenth working day is the 13th
        #expect(s.firing("aid.payment_late/NUT-2")?.level == .yellow)
        try s.advance(hours: 16)
        #expect(s.firing("aid.payment_late/NUT-2")?.level == .orange)
        try s.send(AidPayment.type, region: "370303", payload: Self.payment("NUT-2", school: "370303-P018", students: 300, paidStudents: 300, paidOn: "2020-11-20"))
        #expect(s.firing("aid.payment_late/NUT-2") == nil)
        #expect(s.history("aid.payment_late/NUT-2").last?.summary.contains("逾期20天") == true)
        #expect(s.indicator("aid.late_payments", "370300")?.value == 0)
        // Paid late stays late: the share is of students paid on time.
        #expect(s.indicator("aid.paid_on_time_share", "370300")?.numerator == 600)
    }

    @Test func aPaymentFirstReportedAlreadyPaidLateFiresAndResolvesAtOnce() throws {
        var s = Scenario(StudentAidHandler(), now: "2020-12-01T09:00:00+08:00")
        try s.send(AidPayment.type, region: "370305", payload: Self.payment("GRANT-9", school: "370305-S002", programme: "nationalGrant", due: "2020-11-15", students: 85, paidStudents: 85, paidOn: "2020-11-25"))
        let history = s.history("aid.payment_late/GRANT-9")
        #expect(history.map(\.status) == [.firing, .resolved])
        #expect(history[0].summary.contains("于2020-11-25才足额发放"))
        #expect(s.indicator("aid.paid_on_time_share", "370305")?.numerator == 0)
        #expect(s.indicator("aid.paid_on_time_share", "370305")?.denominator == 85)
    }

    @Test func aTermIsNamedYearAndHalf() {
        var s = Scenario(StudentAidHandler(), now: "2020-12-01T09:00:00+08:00")
        var bad = Self.payment("X")
        if case .object(var o) = bad { o["term"] = "2020-summer"; bad = .object(o) }
        #expect(throws: Rejection(.schemaViolation, "payload.term: \"2020-summer\" is not a term (YYYY-spring or YYYY-autumn)")) {
            try s.send(AidPayment.type, region: "370303", payload: bad)
        }
    }
}
