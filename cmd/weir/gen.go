package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"time"
)

// gen writes live-room comment events as NDJSON to stdout, paced at --rate, ready for
// `curl --data-binary @- http://127.0.0.1:8499/v1/sources/comments/events`.
func gen(args []string) error {
	set := flag.NewFlagSet("gen", flag.ExitOnError)
	rate := set.Int("rate", 1000, "events per second")
	dur := set.Duration("duration", 10*time.Second, "how long to generate")
	rooms := set.Uint64("rooms", 200, "number of rooms")
	seed := set.Uint64("seed", 1, "random seed")
	set.Parse(args)
	rng := rand.New(rand.NewPCG(*seed, 7))
	zipf := rand.NewZipf(rng, 1.2, 1, *rooms-1)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	start := time.Now()
	total := int(dur.Seconds() * float64(*rate))
	for i := 0; i < total; i++ {
		if i%(*rate/10+1) == 0 {
			w.Flush()
			if wait := time.Duration(float64(i)/float64(*rate)*float64(time.Second)) - time.Since(start); wait > 0 {
				time.Sleep(wait)
			}
		}
		ev := map[string]any{
			"room_id": zipf.Uint64(),
			"user_id": rng.Int64N(50000),
			"body":    phrases[rng.IntN(len(phrases))],
			"ts":      time.Now().UTC().Format(time.RFC3339Nano),
		}
		if err := enc.Encode(ev); err != nil {
			return err
		}
	}
	return nil
}
