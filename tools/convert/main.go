// Command convert writes a Data2Vec-Vision or BEiT checkpoint in the
// project's model format: int8 weights (or float32 with -float32) in
// safetensors shards of at most 24 MiB, with the configs in the metadata.
//
//	go run ./tools/convert -model facebook/data2vec-vision-base-ft1k -out models/data2vec-vision-base-ft1k
//	go run ./tools/convert -model path/to/hf-folder -out DIR -float32
//
// A -model that names an existing folder is read from disk. Otherwise it is
// a Hugging Face hub repository id, downloaded into the hub's cache with
// resume and SHA-256 verification. HF_ENDPOINT, HF_TOKEN, HF_HOME,
// HF_HUB_CACHE and HF_HUB_OFFLINE apply as in huggingface_hub. After writing, the converted model is loaded back and its
// logits are compared with the float32 original on a fixed input.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/d2vgo/d2v/checkpoint"
	"github.com/d2vgo/d2v/classifier"
	"github.com/d2vgo/d2v/hub"
	"github.com/d2vgo/d2v/internal/cli"
	"github.com/d2vgo/d2v/model"
	"github.com/d2vgo/d2v/quantize"
)

// maxShardMiB bounds -max-shard-mib; hosts that limit file sizes allow far
// less.
const maxShardMiB = 4096

// looksLikePath reports whether a -model value can only be a local path: a
// hub repository id is "name" or "owner/name" and never starts with "." or
// "/" or "~", nor has more than one slash.
func looksLikePath(s string) bool {
	return strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") ||
		strings.Count(s, "/") > 1 || strings.Contains(s, string(filepath.Separator)+string(filepath.Separator))
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	flags := flag.NewFlagSet("convert", flag.ContinueOnError)
	flags.SetOutput(stderr)
	source := flags.String("model", "", "hub repository `id` (such as facebook/data2vec-vision-base-ft1k) or local Hugging Face model folder")
	revision := flags.String("revision", "main", "hub branch, tag or commit")
	out := flags.String("out", "", "output `folder`")
	float32 := flags.Bool("float32", false, "keep float32 weights instead of int8")
	shardMiB := flags.Int("max-shard-mib", quantize.MaxShardBytes>>20, "maximum size of one weight file in MiB")
	quiet := flags.Bool("quiet", false, "do not draw download progress")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	log := cli.Logger(stderr)
	if *source == "" || *out == "" {
		log.Error("give -model and -out")
		return 2
	}
	if *shardMiB < 1 || *shardMiB > maxShardMiB {
		log.Error("invalid -max-shard-mib: must be between 1 and 4096", "value", *shardMiB)
		return 2
	}

	dir := *source
	info, statErr := os.Stat(dir)
	if statErr == nil && !info.IsDir() {
		log.Error("-model names a file, not a model folder", "model", dir)
		return 2
	}
	if statErr != nil && looksLikePath(dir) {
		log.Error("model folder not found", "model", dir, "err", statErr)
		return 1
	}
	if statErr != nil {
		client := hub.NewClientFromEnv()
		client.Logger = log
		if !*quiet {
			client.Progress = hub.NewProgressBar(stderr).Update
		}
		var err error
		dir, err = download(ctx, client, *source, *revision, log)
		if err != nil {
			log.Error("download failed", "model", *source, "revision", *revision, "err", err)
			return 1
		}
	}

	if err := convert(dir, *out, *source, *float32, int64(*shardMiB)<<20, log); err != nil {
		log.Error("conversion failed", "model", *source, "err", err)
		return 1
	}
	return 0
}

// download fetches the configs and the weights of a hub repository and
// returns the snapshot folder that holds them. Weights are looked up in
// transformers' order: model.safetensors, its sharded index, then
// pytorch_model.bin and its index.
func download(ctx context.Context, client *hub.Client, repo, revision string, log *slog.Logger) (string, error) {
	var snapshot string
	for _, name := range []string{"config.json", "preprocessor_config.json"} {
		path, err := client.Download(ctx, repo, revision, name)
		if err != nil {
			return "", err
		}
		snapshot = filepath.Dir(path)
	}

	for _, weights := range []string{checkpoint.SafetensorsFile, checkpoint.SafetensorsIndexFile, checkpoint.TorchFile, checkpoint.TorchIndexFile} {
		path, err := client.Download(ctx, repo, revision, weights)
		if hub.IsNotFound(err) {
			log.Debug("weights file not in repository", "file", weights)
			continue
		}
		if err != nil {
			return "", err
		}
		if filepath.Ext(weights) == ".json" {
			shards, err := checkpoint.IndexShards(path)
			if err != nil {
				return "", err
			}
			for _, shard := range shards {
				if _, err := client.Download(ctx, repo, revision, shard); err != nil {
					return "", err
				}
			}
		}
		return snapshot, nil
	}
	return "", fmt.Errorf("repository %s at %s has none of model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json", repo, revision)
}

// convert writes the model in dir to out and checks the result.
func convert(dir, out, source string, keepFloat32 bool, maxShard int64, log *slog.Logger) error {
	configJSON, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return err
	}
	processorJSON, err := os.ReadFile(filepath.Join(dir, "preprocessor_config.json"))
	if err != nil {
		return err
	}
	cfg, err := model.ParseConfig(configJSON)
	if err != nil {
		return fmt.Errorf("config.json: %w", err)
	}
	ckpt, err := checkpoint.Open(dir)
	if err != nil {
		return err
	}
	// Build the float32 model first: it proves that config and weights agree
	// before anything is written, and it is the reference for the check.
	reference, err := model.New(cfg, ckpt)
	if err != nil {
		return err
	}
	// Writing into the source folder would replace the weights being read,
	// whatever path (symbolic links included) leads there.
	if outInfo, err := os.Stat(out); err == nil {
		if srcInfo, err := os.Stat(dir); err == nil && os.SameFile(outInfo, srcInfo) {
			return errors.New("-out must differ from the model folder")
		}
	}

	files, err := quantize.Write(out, configJSON, processorJSON, ckpt, quantize.WriteOptions{
		Float32: keepFloat32, MaxShardBytes: maxShard, SourceModel: source,
	})
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		info, err := os.Stat(filepath.Join(out, f))
		if err != nil {
			return err
		}
		total += info.Size()
	}
	log.Info("wrote model", "out", out, "files", len(files), "bytes", total)

	converted, err := classifier.OpenWithOptions(out, classifier.Options{Float32: keepFloat32})
	if err != nil {
		return fmt.Errorf("reloading the converted model: %w", err)
	}
	cosine, maxDiff, err := compareLogits(reference, converted.Model)
	if err != nil {
		return err
	}
	log.Info("checked converted model against float32", "logit_cosine", fmt.Sprintf("%.6f", cosine), "max_logit_diff", fmt.Sprintf("%.3g", maxDiff))
	return nil
}

// compareLogits runs both models on the same pseudo-random image (values in
// [-1, 1], the range after normalization) and returns the cosine similarity
// and the maximum absolute difference of their logits.
func compareLogits(a, b *model.Model) (cosine, maxDiff float64, err error) {
	size := a.Config.ImageSize
	rng := rand.New(rand.NewPCG(1, 2))
	pixels := make([]float32, 3*size*size)
	for i := range pixels {
		pixels[i] = float32(2*rng.Float64() - 1)
	}
	outA, err := a.Forward(pixels, 1, model.ForwardOptions{})
	if err != nil {
		return 0, 0, err
	}
	outB, err := b.Forward(pixels, 1, model.ForwardOptions{})
	if err != nil {
		return 0, 0, err
	}
	var dot, normA, normB float64
	for i, x := range outA.Logits {
		y := outB.Logits[i]
		dot += float64(x) * float64(y)
		normA += float64(x) * float64(x)
		normB += float64(y) * float64(y)
		maxDiff = math.Max(maxDiff, math.Abs(float64(x-y)))
	}
	return dot / math.Sqrt(normA*normB), maxDiff, nil
}
