import Enrolment
import HandlerKit
import HandlerKitTesting
import Testing

/// Explainable and revisable indicators: each value lists what makes it up, each update the
/// events that changed it; an event that arrives late lands where its time puts it, and what
/// it changes is published as a revision.
extension EnrolmentScenarioTests {
    @Test func explainListsEachKindergartenAndTheirSumIsTheValue() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-03-02T08:00:00+08:00")
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-K001", level: "preschool", [("大1", 30), ("大2", 28)]), id: "c-1")
        try s.send(
            EventType.enrolmentCensus, region: "370303",
            payload: census("370303-K002", level: "preschool", ownership: "inclusivePrivate", [("大1", 25)]), id: "c-2")
        try s.send(EventType.enrolmentCensus, region: "370305", payload: census("370305-K003", level: "preschool", [("中1", 20)]), id: "c-3")
        try s.send(
            EventType.enrolmentChange, region: "370303",
            payload: change("370303-K001", "admitted", 2, classId: "大1", level: "preschool"), id: "a-1")

        let district = try #require(s.handler.explain("preschool.public_share", region: RegionCode("370303")!, state: s.state))
        #expect(district.contributions.map(\.subject) == ["370303-K001", "370303-K002"])
        #expect(district.contributions[0].numerator == 60 && district.contributions[0].denominator == 60)
        #expect(district.contributions[0].events == ["c-1", "a-1"])
        #expect(district.contributions[1].numerator == 0 && district.contributions[1].denominator == 25)
        #expect(district.numerator == 60 && district.denominator == 85)

        let city = try #require(s.handler.explain("preschool.public_share", region: RegionCode("370300")!, state: s.state))
        #expect(city.contributions.count == 3)
        #expect(city.contributions.reduce(0) { $0 + $1.numerator } == city.numerator)
        #expect(city.contributions.reduce(0) { $0 + $1.denominator } == city.denominator)
        #expect(city.numerator == 80 && city.denominator == 105)

        let update = try #require(s.indicator("preschool.public_share", "370300"))
        #expect(update.changedBy == ["a-1"])
        #expect(update.definitionVersion == 1 && update.revision == 0)
    }

    @Test func aChangeOlderThanTheCensusInForceIsAlreadyCountedInIt() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-03-02T08:00:00+08:00")
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-0042", [("3-2", 55)]), id: "census")
        let before = s.outputs.count
        // Admitted the day before the census, reported after it: the census counted them.
        try s.send(
            EventType.enrolmentChange, region: "370303", payload: change("370303-0042", "admitted", 2, classId: "3-2"),
            occurredAt: "2020-03-01T15:00:00+08:00", id: "late")
        #expect(s.outputs.count == before)
        #expect(s.firing("enrolment.oversized_class/370303-0042/3-2") == nil)
    }

    @Test func aCensusThatArrivesLateIsAppliedWithTheLaterChangesOnTopAsARevision() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-03-02T08:00:00+08:00")
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-0042", [("3-2", 50), ("3-1", 56)]), id: "census-1")
        #expect(s.indicator("compulsory.oversized_classes", "370303")?.value == 1)
        try s.send(
            EventType.enrolmentChange, region: "370303", payload: change("370303-0042", "transferredIn", 3, classId: "3-2"),
            occurredAt: "2020-03-05T09:00:00+08:00", id: "in-3")
        #expect(s.firing("enrolment.oversized_class/370303-0042/3-2") == nil)  // 53
        // The census of 4 March (54 pupils) arrives after the change of the 5th.
        try s.send(
            EventType.enrolmentCensus, region: "370303", payload: census("370303-0042", [("3-2", 54), ("3-1", 56)]),
            occurredAt: "2020-03-04T08:00:00+08:00", id: "census-2")
        let alert = try #require(s.firing("enrolment.oversized_class/370303-0042/3-2"))
        #expect(alert.summary.contains("班额57人"))
        let count = try #require(s.indicator("compulsory.oversized_classes", "370303"))
        #expect(count.value == 2)
        #expect(count.revision == 1)
        #expect(count.changedBy == ["in-3"])
        // An even older census changes nothing: the one of the 4th is in force.
        let before = s.outputs.count
        try s.send(
            EventType.enrolmentCensus, region: "370303", payload: census("370303-0042", [("3-2", 20), ("3-1", 20)]),
            occurredAt: "2020-03-03T08:00:00+08:00", id: "census-0")
        #expect(s.outputs.count == before)
    }

    @Test func aLateChangeRevisesTheShareItChanges() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-03-02T08:00:00+08:00")
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-K001", level: "preschool", [("大1", 30)]), id: "c-1")
        try s.send(
            EventType.enrolmentCensus, region: "370303",
            payload: census("370303-K002", level: "preschool", ownership: "private", [("大1", 30)]), id: "c-2")
        try s.send(
            EventType.enrolmentChange, region: "370303", payload: change("370303-K001", "admitted", 10, level: "preschool"),
            occurredAt: "2020-03-10T08:00:00+08:00", id: "on-time")
        #expect(s.indicator("preschool.public_share", "370303")?.revision == 0)
        try s.send(
            EventType.enrolmentChange, region: "370303", payload: change("370303-K001", "admitted", 5, level: "preschool"),
            occurredAt: "2020-03-06T08:00:00+08:00", id: "late")
        let revised = try #require(s.indicator("preschool.public_share", "370303"))
        #expect(revised.numerator == 45 && revised.denominator == 75)
        #expect(revised.revision == 1 && revised.changedBy == ["late"])
    }
}
