package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// The Nexmark generator, after the reference (Apache Beam's NexmarkGenerator, also used
// by Flink's and RisingWave's Nexmark): event i is a person, an auction or a bid in
// proportion 1 : 3 : 46; ids are dense and derived from i; a quarter of auctions are
// sold by a hot seller and half the bids go to a hot auction and three quarters come
// from a hot bidder; event time advances with the event count at the reference's
// default rate of 10,000 events per second; records are padded to the reference's
// average sizes (person 200, auction 500, bid 100 bytes). The random source is Go's,
// so the values are the reference's in distribution, not bit for bit.
const (
	nexPersonProportion  = 1
	nexAuctionProportion = 3
	nexBidProportion     = 46
	nexTotalProportion   = nexPersonProportion + nexAuctionProportion + nexBidProportion

	nexFirstPersonID   = 1000
	nexFirstAuctionID  = 1000
	nexFirstCategoryID = 10
	nexNumCategories   = 5
	nexPersonIDLead    = 10
	nexAuctionIDLead   = 10

	nexHotAuctionRatio = 2 // 1 in 2 bids is for a hot auction (GeneratorConfig default)
	nexHotSellersRatio = 4
	nexHotBiddersRatio = 4
	nexHotAuctionGroup = 100 // HOT_AUCTION_RATIO in BidGenerator: the hot auction of each 100
	nexHotSellerGroup  = 100
	nexHotBidderGroup  = 100

	nexNumActivePeople     = 1000
	nexNumInFlightAuctions = 100
	nexRate                = 10_000 // events per second of event time
	nexInterEventUs        = 1_000_000 / nexRate
	nexChannels            = 10_000

	nexAvgPersonBytes  = 200
	nexAvgAuctionBytes = 500
	nexAvgBidBytes     = 100
)

var (
	nexUSStates    = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	nexUSCities    = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	nexFirstNames  = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	nexLastNames   = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	nexHotChannels = []string{"Google", "Facebook", "Baidu", "Apple"}
)

// nexBaseTime is the event time of event 0.
var nexBaseTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

type nexPerson struct {
	ID                                   int64
	Name, Email, CreditCard, City, State string
	DateTime                             int64 // µs since the Unix epoch
	Extra                                string
}

type nexAuction struct {
	ID                    int64
	ItemName, Description string
	InitialBid, Reserve   int64
	DateTime, Expires     int64
	Seller, Category      int64
	Extra                 string
}

type nexBid struct {
	Auction, Bidder, Price int64
	Channel, URL           string
	DateTime               int64
	Extra                  string
}

// nexEvents is a stream of n events, split by kind; batch boundaries are by event
// number, and bounds[i] holds each kind's count before batch i.
type nexEvents struct {
	persons  []nexPerson
	auctions []nexAuction
	bids     []nexBid
	bounds   [][3]int
}

func genNexmark(n, batches int, seed uint64) *nexEvents {
	r := rand.New(rand.NewPCG(seed, 0x4e45584d41524b))
	// Sized up front: growing slices of this size one append at a time copied them
	// about five times over, most of the generator's time.
	per := func(prop int) int { return n/nexTotalProportion*prop + prop }
	ev := &nexEvents{
		persons:  make([]nexPerson, 0, per(nexPersonProportion)),
		auctions: make([]nexAuction, 0, per(nexAuctionProportion)),
		bids:     make([]nexBid, 0, per(nexBidProportion)),
		bounds:   make([][3]int, 0, batches+1),
	}
	for i := 0; i < n; i++ {
		if i == n*len(ev.bounds)/batches {
			ev.bounds = append(ev.bounds, [3]int{len(ev.persons), len(ev.auctions), len(ev.bids)})
		}
		id := int64(i)
		ts := nexBaseTime + id*nexInterEventUs
		switch rem := id % nexTotalProportion; {
		case rem < nexPersonProportion:
			ev.persons = append(ev.persons, nexNewPerson(r, id, ts))
		case rem < nexPersonProportion+nexAuctionProportion:
			ev.auctions = append(ev.auctions, nexNewAuction(r, id, ts))
		default:
			ev.bids = append(ev.bids, nexNewBid(r, id, ts))
		}
	}
	ev.bounds = append(ev.bounds, [3]int{len(ev.persons), len(ev.auctions), len(ev.bids)})
	return ev
}

func nexLastBase0PersonID(eventID int64) int64 {
	epoch, offset := eventID/nexTotalProportion, eventID%nexTotalProportion
	if offset >= nexPersonProportion {
		offset = nexPersonProportion - 1
	}
	return epoch*nexPersonProportion + offset
}

func nexLastBase0AuctionID(eventID int64) int64 {
	epoch, offset := eventID/nexTotalProportion, eventID%nexTotalProportion
	switch {
	case offset < nexPersonProportion:
		epoch--
		offset = nexAuctionProportion - 1
	case offset >= nexPersonProportion+nexAuctionProportion:
		offset = nexAuctionProportion - 1
	default:
		offset -= nexPersonProportion
	}
	return epoch*nexAuctionProportion + offset
}

func nexNextBase0PersonID(r *rand.Rand, eventID int64) int64 {
	numPeople := nexLastBase0PersonID(eventID) + 1
	active := min(numPeople, nexNumActivePeople)
	return numPeople - active + r.Int64N(active+nexPersonIDLead)
}

func nexNextBase0AuctionID(r *rand.Rand, eventID int64) int64 {
	maxAuction := nexLastBase0AuctionID(eventID)
	minAuction := max(maxAuction-nexNumInFlightAuctions, 0)
	return minAuction + r.Int64N(maxAuction-minAuction+1+nexAuctionIDLead)
}

func nexNextString(r *rand.Rand, maxLen int) string {
	n := 3 + r.IntN(maxLen-3)
	var b strings.Builder
	for ; n > 0; n-- {
		if r.IntN(13) == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
	}
	return strings.TrimSpace(b.String())
}

func nexExactString(r *rand.Rand, n int) string {
	var b strings.Builder
	for ; n > 0; n-- {
		if r.IntN(13) == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
	}
	return b.String()
}

// nexExtra pads a record of size bytes towards avg, ±20%.
func nexExtra(r *rand.Rand, size, avg int) string {
	if size > avg {
		return ""
	}
	avg -= size
	delta := int(math.Round(float64(avg) * 0.2))
	n := avg - delta
	if delta > 0 {
		n += r.IntN(2 * delta)
	}
	return nexExactString(r, n)
}

func nexPrice(r *rand.Rand) int64 { return int64(math.Round(math.Pow(10, r.Float64()*6) * 100)) }

func nexNewPerson(r *rand.Rand, eventID, ts int64) nexPerson {
	p := nexPerson{
		ID:         nexLastBase0PersonID(eventID) + nexFirstPersonID,
		Name:       nexFirstNames[r.IntN(len(nexFirstNames))] + " " + nexLastNames[r.IntN(len(nexLastNames))],
		Email:      nexNextString(r, 7) + "@" + nexNextString(r, 5) + ".com",
		CreditCard: fmt.Sprintf("%04d %04d %04d %04d", r.IntN(10000), r.IntN(10000), r.IntN(10000), r.IntN(10000)),
		City:       nexUSCities[r.IntN(len(nexUSCities))],
		State:      nexUSStates[r.IntN(len(nexUSStates))],
		DateTime:   ts,
	}
	p.Extra = nexExtra(r, 8+len(p.Name)+len(p.Email)+len(p.CreditCard)+len(p.City)+len(p.State)+8, nexAvgPersonBytes)
	return p
}

func nexNewAuction(r *rand.Rand, eventID, ts int64) nexAuction {
	a := nexAuction{ID: nexLastBase0AuctionID(eventID) + nexFirstAuctionID, DateTime: ts}
	if r.IntN(nexHotSellersRatio) > 0 {
		a.Seller = (nexLastBase0PersonID(eventID) / nexHotSellerGroup) * nexHotSellerGroup
	} else {
		a.Seller = nexNextBase0PersonID(r, eventID)
	}
	a.Seller += nexFirstPersonID
	a.Category = nexFirstCategoryID + r.Int64N(nexNumCategories)
	a.ItemName = nexNextString(r, 20)
	a.Description = nexNextString(r, 100)
	a.InitialBid = nexPrice(r)
	a.Reserve = a.InitialBid + nexPrice(r)
	// An auction runs for up to twice the event time the next numInFlightAuctions
	// auctions take to arrive.
	horizon := (nexNumInFlightAuctions * nexTotalProportion / nexAuctionProportion) * nexInterEventUs
	a.Expires = ts + 1000*(1+r.Int64N(int64(max(2*horizon/1000, 1))))
	a.Extra = nexExtra(r, 8+len(a.ItemName)+len(a.Description)+8+8+8+8+8, nexAvgAuctionBytes)
	return a
}

func nexNewBid(r *rand.Rand, eventID, ts int64) nexBid {
	b := nexBid{DateTime: ts}
	if r.IntN(nexHotAuctionRatio) > 0 {
		b.Auction = (nexLastBase0AuctionID(eventID) / nexHotAuctionGroup) * nexHotAuctionGroup
	} else {
		b.Auction = nexNextBase0AuctionID(r, eventID)
	}
	b.Auction += nexFirstAuctionID
	if r.IntN(nexHotBiddersRatio) > 0 {
		b.Bidder = (nexLastBase0PersonID(eventID)/nexHotBidderGroup)*nexHotBidderGroup + 1
	} else {
		b.Bidder = nexNextBase0PersonID(r, eventID)
	}
	b.Bidder += nexFirstPersonID
	b.Price = nexPrice(r)
	if r.IntN(10) > 0 {
		c := r.IntN(nexChannels)
		b.Channel = fmt.Sprintf("channel-%d", c)
		b.URL = fmt.Sprintf("https://www.nexmark.com/%s/item.htm?query=1&channel_id=%d", nexNextString(r, 5), c)
	} else {
		h := r.IntN(len(nexHotChannels))
		b.Channel = nexHotChannels[h]
		b.URL = "https://www.nexmark.com/" + strings.ToLower(nexHotChannels[h]) + "/item.htm?query=1"
	}
	b.Extra = nexExtra(r, 8+8+8+len(b.Channel)+len(b.URL)+8, nexAvgBidBytes)
	return b
}

// payloads encodes batch i of each kind as binary COPY data: person, auction, bid.
func (ev *nexEvents) payloads(i int) [3]copyPayload {
	lo, hi := ev.bounds[i], ev.bounds[i+1]
	var out [3]copyPayload
	b := newBinaryCopy(nil, (hi[0]-lo[0])*260+32)
	for _, p := range ev.persons[lo[0]:hi[0]] {
		b.begin(8)
		b.fieldInt(p.ID)
		b.fieldText(p.Name)
		b.fieldText(p.Email)
		b.fieldText(p.CreditCard)
		b.fieldText(p.City)
		b.fieldText(p.State)
		b.fieldTS(p.DateTime)
		b.fieldText(p.Extra)
	}
	out[0] = b.finish()
	b = newBinaryCopy(nil, (hi[1]-lo[1])*560+32)
	for _, a := range ev.auctions[lo[1]:hi[1]] {
		b.begin(10)
		b.fieldInt(a.ID)
		b.fieldText(a.ItemName)
		b.fieldText(a.Description)
		b.fieldInt(a.InitialBid)
		b.fieldInt(a.Reserve)
		b.fieldTS(a.DateTime)
		b.fieldTS(a.Expires)
		b.fieldInt(a.Seller)
		b.fieldInt(a.Category)
		b.fieldText(a.Extra)
	}
	out[1] = b.finish()
	b = newBinaryCopy(nil, (hi[2]-lo[2])*160+32)
	for _, x := range ev.bids[lo[2]:hi[2]] {
		b.begin(7)
		b.fieldInt(x.Auction)
		b.fieldInt(x.Bidder)
		b.fieldInt(x.Price)
		b.fieldText(x.Channel)
		b.fieldText(x.URL)
		b.fieldTS(x.DateTime)
		b.fieldText(x.Extra)
	}
	out[2] = b.finish()
	return out
}
