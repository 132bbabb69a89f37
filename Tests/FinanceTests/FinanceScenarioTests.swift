import Finance
import HandlerKit
import HandlerKitTesting
import Testing

@Suite struct FinanceScenarioTests {
    func budget(_ year: Int64, _ spending: Int64, _ perPupil: Int64) -> JSONValue {
        .object(["year": .integer(year), "educationSpending": .integer(spending), "perPupilSpending": .integer(perPupil)])
    }

    @Test func spendingThatFallsYearOnYearFiresOrangeAndACorrectionResolvesIt() throws {
        var s = Scenario(FinanceHandler(), now: "2024-03-01T09:00:00+08:00")
        try s.send(FinanceHandler.eventType, region: "370300", payload: budget(2022, 5_200_000_000, 14_800))
        try s.send(FinanceHandler.eventType, region: "370300", payload: budget(2023, 5_350_000_000, 14_600))
        let perPupil = "finance.spending_decreased/370300/per_pupil_spending/2023"
        #expect(s.firing(perPupil)?.level == .orange)
        #expect(s.firing(perPupil)?.planRef == "City 2023 §20")
        #expect(s.firing("finance.spending_decreased/370300/education_spending/2023") == nil)
        #expect(s.indicator("finance.per_pupil_spending", "370300")?.value == 14_600)
        try s.send(FinanceHandler.eventType, region: "370300", payload: budget(2023, 5_350_000_000, 15_000))
        #expect(s.firing(perPupil) == nil)
    }

    @Test func aLateReportOfTheEarlierYearIsComparedToo() throws {
        var s = Scenario(FinanceHandler(), now: "2024-03-01T09:00:00+08:00")
        try s.send(FinanceHandler.eventType, region: "370303", payload: budget(2023, 900_000_000, 13_000))
        try s.send(FinanceHandler.eventType, region: "370303", payload: budget(2022, 950_000_000, 12_500))
        #expect(s.firing("finance.spending_decreased/370303/education_spending/2023") != nil)
    }
}
