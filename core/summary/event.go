package summary

import (
	"fmt"
	"math"
)

// Event is one record of an event file.
type Event struct {
	WallTime    float64 // seconds since the Unix epoch
	Step        int64
	FileVersion string  // set in a file's first event: "brain.Event:2"
	GraphDef    []byte  // an encoded GraphDef (see DecodeGraph)
	Values      []Value // the event's Summary
}

// Value is one tagged value of a Summary: a scalar or a histogram.
type Value struct {
	Tag       string
	Scalar    float32
	HasScalar bool
	Histogram *Histogram
}

// Histogram is a HistogramProto: bucket i counts the values above
// Limits[i-1] and up to Limits[i].
type Histogram struct {
	Min, Max, Num, Sum, SumSquares float64
	Limits, Counts                 []float64
}

// Field numbers of tensorflow/core/util/event.proto and
// tensorflow/core/framework/summary.proto, graph.proto, node_def.proto.
const (
	eventWallTime    = 1
	eventStep        = 2
	eventFileVersion = 3
	eventGraphDef    = 4
	eventSummary     = 5

	summaryValue = 1

	valueTag    = 1
	valueSimple = 2
	valueHisto  = 5

	histoMin        = 1
	histoMax        = 2
	histoNum        = 3
	histoSum        = 4
	histoSumSquares = 5
	histoLimits     = 6
	histoCounts     = 7

	graphNode     = 1
	graphVersions = 4
	versionsProd  = 1

	nodeName  = 1
	nodeOp    = 2
	nodeInput = 3
)

// fileVersion is what TensorBoard expects in a file's first event.
const fileVersion = "brain.Event:2"

// appendEventHead starts an Event with its time and step.
func appendEventHead(b []byte, wall float64, step int64) []byte {
	b = appendDouble(b, eventWallTime, wall)
	if step != 0 {
		b = appendInt(b, eventStep, step)
	}
	return b
}

// DecodeEvent decodes one Event message.
func DecodeEvent(b []byte) (Event, error) {
	var e Event
	err := eachField(b, func(f field) error {
		switch f.num {
		case eventWallTime:
			if err := f.want(wire64); err != nil {
				return err
			}
			e.WallTime = f.double()
		case eventStep:
			if err := f.want(wireVarint); err != nil {
				return err
			}
			e.Step = int64(f.u)
		case eventFileVersion:
			if err := f.want(wireBytes); err != nil {
				return err
			}
			e.FileVersion = string(f.data)
		case eventGraphDef:
			if err := f.want(wireBytes); err != nil {
				return err
			}
			e.GraphDef = f.data
		case eventSummary:
			if err := f.want(wireBytes); err != nil {
				return err
			}
			return eachField(f.data, func(f field) error {
				if f.num != summaryValue {
					return nil
				}
				if err := f.want(wireBytes); err != nil {
					return err
				}
				v, err := decodeValue(f.data)
				e.Values = append(e.Values, v)
				return err
			})
		}
		return nil
	})
	return e, err
}

func decodeValue(b []byte) (Value, error) {
	var v Value
	err := eachField(b, func(f field) error {
		switch f.num {
		case valueTag:
			if err := f.want(wireBytes); err != nil {
				return err
			}
			v.Tag = string(f.data)
		case valueSimple:
			if err := f.want(wire32); err != nil {
				return err
			}
			v.Scalar, v.HasScalar = math.Float32frombits(uint32(f.u)), true
		case valueHisto:
			if err := f.want(wireBytes); err != nil {
				return err
			}
			h, err := decodeHistogram(f.data)
			v.Histogram = &h
			return err
		}
		return nil
	})
	return v, err
}

func decodeHistogram(b []byte) (Histogram, error) {
	var h Histogram
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case histoMin, histoMax, histoNum, histoSum, histoSumSquares:
			if err := f.want(wire64); err != nil {
				return err
			}
			switch v := f.double(); f.num {
			case histoMin:
				h.Min = v
			case histoMax:
				h.Max = v
			case histoNum:
				h.Num = v
			case histoSum:
				h.Sum = v
			default:
				h.SumSquares = v
			}
		case histoLimits:
			h.Limits, err = f.doubles(h.Limits)
		case histoCounts:
			h.Counts, err = f.doubles(h.Counts)
		}
		return err
	})
	if err == nil && len(h.Limits) != len(h.Counts) {
		err = fmt.Errorf("%w: histogram with %d bucket limits and %d counts", errMalformed, len(h.Limits), len(h.Counts))
	}
	return h, err
}

// Node is one node of a graph as TensorBoard draws it: its name, its
// operation (the layer's class) and the names of the nodes it reads.
type Node struct {
	Name, Op string
	Inputs   []string
}

// encodeGraph encodes nodes as a GraphDef.
func encodeGraph(nodes []Node) []byte {
	var g, n []byte
	for _, node := range nodes {
		n = appendString(n[:0], nodeName, node.Name)
		n = appendString(n, nodeOp, node.Op)
		for _, in := range node.Inputs {
			n = appendString(n, nodeInput, in)
		}
		g = appendBytes(g, graphNode, n)
	}
	// A GraphDef carries the producer's version; 1 is any early TensorFlow
	// (TensorBoard only reads it).
	return appendBytes(g, graphVersions, appendInt(nil, versionsProd, 1))
}

// DecodeGraph decodes a GraphDef's nodes.
func DecodeGraph(b []byte) ([]Node, error) {
	var nodes []Node
	err := eachField(b, func(f field) error {
		if f.num != graphNode {
			return nil
		}
		if err := f.want(wireBytes); err != nil {
			return err
		}
		var n Node
		err := eachField(f.data, func(f field) error {
			if f.num != nodeName && f.num != nodeOp && f.num != nodeInput {
				return nil
			}
			if err := f.want(wireBytes); err != nil {
				return err
			}
			switch f.num {
			case nodeName:
				n.Name = string(f.data)
			case nodeOp:
				n.Op = string(f.data)
			default:
				n.Inputs = append(n.Inputs, string(f.data))
			}
			return nil
		})
		nodes = append(nodes, n)
		return err
	})
	return nodes, err
}
